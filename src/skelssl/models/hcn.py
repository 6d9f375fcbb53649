"""HCN encoder (Li et al., IJCAI 2018), the image encoder of ISC: a skeleton sequence as an image.

Per person, a coordinates branch and a motion branch (frame differences resampled to the
sequence's length, as HCN's bilinear upsampling) each run: point-level conv 1×1 → C₁ (PReLU),
conv 3×1 over time → W, then joints become channels (the image is T × W with V channels),
co-occurrence conv 3×3 → C₁/2 with max-pooling, conv 3×3 → C₁ with Dropout2d and
max-pooling. The two are concatenated, then conv 3×3 → 2C₁ and conv 3×3 → 4C₁ (each PReLU,
Dropout2d, max-pooling; pooling rounds odd sizes up, which equals HCN's for its 64-frame
input and keeps short sequences valid); the map is max-pooled to a grid × grid and flattened,
and persons are max-pooled (HCN) or averaged. Full size (C₁ = 64, W = 64, grid 4) gives ISC's
4096-d feature from 64-frame input; 0.52 M parameters on NTU. Weights are Xavier-uniform.
Frames beyond a sample's length are zeroed before every convolution, so padding never changes
a feature.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, ClassVar, Literal

import torch
from torch import nn

from skelssl.models.masking import FrameMask
from skelssl.schema import AtLeastOne, DropRate, Range
from skelssl.skeleton import Layout
from skelssl.transforms.masks import valid_frames


def resampled_motion(x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """HCN's motion: the L − 1 frame differences of each sequence, linearly resampled to L
    frames (half-pixel centres, as bilinear upsampling with align_corners=False); zero beyond
    L. x is (B, C, T, V), lengths (B,)."""
    b, c, t, v = x.shape
    diffs = x[:, :, 1:] - x[:, :, :-1] if t > 1 else torch.zeros_like(x)
    length = lengths.to(x.device, x.dtype)[:, None]
    steps = torch.arange(t, device=x.device, dtype=x.dtype)[None]
    source = ((steps + 0.5) * (length - 1) / length.clamp(min=1) - 0.5).clamp(min=0)
    last = (lengths.to(x.device) - 2).clamp(min=0)[:, None]
    lower = torch.minimum(source.floor().long(), last)
    upper = torch.minimum(lower + 1, last)
    weight = (source - lower.to(x.dtype)).clamp(max=1)[:, None, :, None]

    def take(index: torch.Tensor) -> torch.Tensor:
        return diffs.gather(2, index[:, None, :, None].expand(b, c, t, v))

    motion = take(lower) * (1 - weight) + take(upper) * weight
    keep = valid_frames(lengths.to(x.device), t) & (lengths.to(x.device) > 1)[:, None]
    return motion * keep[:, None, :, None].to(x.dtype)


class Branch(nn.Module):
    """conv 1×1 → C₁ (PReLU), conv 3×1 → W, joints → channels, conv 3×3 → C₁/2 + pool,
    conv 3×3 → C₁ + Dropout2d + pool."""

    def __init__(self, in_channels: int, joints: int, channels: int, window: int,
                 dropout: float) -> None:
        super().__init__()
        self.point = nn.Sequential(nn.Conv2d(in_channels, channels, 1), nn.PReLU())
        self.temporal = nn.Conv2d(channels, window, (3, 1), padding=(1, 0))
        self.cooccurrence = nn.Conv2d(joints, channels // 2, 3, padding=1)
        self.conv = nn.Conv2d(channels // 2, channels, 3, padding=1)
        self.dropout = nn.Dropout2d(dropout)
        self.pool = nn.MaxPool2d(2, ceil_mode=True)

    def forward(self, x: torch.Tensor, mask: FrameMask) -> tuple[torch.Tensor, FrameMask]:
        x = self.temporal(mask.apply(self.point(mask.apply(x))))
        x = x.permute(0, 3, 2, 1)  # (B, V, T, W): joints are the image's channels
        x = self.pool(self.cooccurrence(mask.apply(x)))
        mask = mask.strided(2, x.shape[2])
        x = self.pool(self.dropout(self.conv(mask.apply(x))))
        return x, mask.strided(2, x.shape[2])


@dataclass
class HCNConfig:
    """Encoder section for HCN (defaults: ISC's image encoder, 4096-d features)."""

    name: str = "hcn"
    # C₁: the point-level width; the co-occurrence conv has C₁/2, the fusion convs 2C₁ and 4C₁
    channels: Annotated[int, Range(2)] = 64
    window: AtLeastOne = 64  # W: outputs of the temporal conv, the image's width
    grid: AtLeastOne = 4  # the last map is max-pooled to grid × grid: features = 4C₁·grid²
    dropout: DropRate = 0.5  # Dropout2d after the co-occurrence and fusion convolutions
    person_pool: Literal["max", "mean"] = "max"  # HCN takes the maximum over persons


class HCN(nn.Module):
    """HCN encoder: x[N, C, T, V, M] (+ lengths) → features[N, 4·channels·grid²]."""

    Config = HCNConfig
    provides: ClassVar[frozenset[str]] = frozenset()

    def __init__(self, in_channels: int, joints: int, channels: int = 64, window: int = 64,
                 grid: int = 4, dropout: float = 0.5, person_pool: str = "max") -> None:
        super().__init__()
        self.joint = Branch(in_channels, joints, channels, window, dropout)
        self.motion = Branch(in_channels, joints, channels, window, dropout)
        self.fusion = nn.ModuleList([
            nn.Sequential(nn.Conv2d(2 * channels, 2 * channels, 3, padding=1), nn.PReLU(),
                          nn.Dropout2d(dropout), nn.MaxPool2d(2, ceil_mode=True)),
            nn.Sequential(nn.Conv2d(2 * channels, 4 * channels, 3, padding=1), nn.PReLU(),
                          nn.Dropout2d(dropout), nn.MaxPool2d(2, ceil_mode=True))])
        self.grid = nn.AdaptiveMaxPool2d(grid)
        self.person_pool = person_pool
        self.feature_dim: int = 4 * channels * grid * grid
        for module in self.modules():  # Xavier-uniform weights, zero biases (HCN's code)
            if isinstance(module, nn.Conv2d) and module.bias is not None:
                nn.init.xavier_uniform_(module.weight)
                nn.init.zeros_(module.bias)

    @classmethod
    def from_config(cls, config: HCNConfig, *, layout: Layout, in_channels: int,
                    persons: int) -> HCN:
        return cls(in_channels, layout.num_joints, config.channels, config.window, config.grid,
                   config.dropout, config.person_pool)

    def forward(self, x: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        n, c, t, v, m = x.shape
        frames = x.permute(0, 4, 1, 2, 3).reshape(n * m, c, t, v)
        lengths = torch.full((n,), t, device=x.device) if lengths is None else lengths
        mask = FrameMask(lengths, t, m)
        motion = resampled_motion(frames, lengths.repeat_interleave(m))
        joint_maps, mask_out = self.joint(frames, mask)
        motion_maps, _ = self.motion(motion, mask)
        out = torch.cat([joint_maps, motion_maps], dim=1)
        for stage in self.fusion:
            out = stage(mask_out.apply(out))
            mask_out = mask_out.strided(2, out.shape[2])
        features = self.grid(mask_out.apply(out)).flatten(1).view(n, m, -1)
        return features.amax(dim=1) if self.person_pool == "max" else features.mean(dim=1)
