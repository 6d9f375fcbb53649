"""2s-AGCN encoder (Shi et al., CVPR 2019), the graph encoder of ISC.

Block = adaptive graph conv → temporal conv (9×1, stride s) + residual → ReLU. The graph conv
sums, over the subsets k of A = [I, inward, outward] (from the layout), conv_d_k(x · (A_k + PA_k
+ C_k)): PA is a learnable (3, V, V) graph initialised at 1e-6, C_k a data-dependent attention
graph softmax(θ_k(x)ᵀ φ_k(x) / (C_e·T)) from two embedding 1×1 convolutions (C_e = out / 4).
Ten blocks of widths w, w, w, w, 2w (s2), 2w, 2w, 4w (s2), 4w, feature_dim; features are
averaged over (T', V), then over persons. Full width (w = 64, feature_dim 256) on NTU: 3.45 M
parameters (the paper's joint stream: about 3.5 M with its classifier); ``base_channels: 16``
is the 1/4 width of the ST-GCN-family settings (0.88 M). Initialisation as the released code.
Frames beyond a sample's length are masked before every temporal convolution and left out of
the attention graphs and the pooling.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import torch
from torch import nn

from skelssl.models.init import bn_init, conv_init
from skelssl.models.masking import FrameMask, MapEncoder
from skelssl.schema import AtLeastOne
from skelssl.skeleton import Layout, load_layout


class AdaptiveGraphConv(nn.Module):
    """Σ_k conv_d_k(x · (A_k + PA_k + C_k(x))), BN, + down(x), ReLU."""

    def __init__(self, in_channels: int, out_channels: int, adjacency: torch.Tensor,
                 embedding_ratio: int = 4) -> None:
        super().__init__()
        subsets = adjacency.shape[0]
        self.inter = max(out_channels // embedding_ratio, 1)
        self.adjacency: torch.Tensor
        self.register_buffer("adjacency", adjacency.clone())
        self.PA = nn.Parameter(torch.full_like(adjacency, 1e-6))
        self.conv_a = nn.ModuleList(nn.Conv2d(in_channels, self.inter, 1)
                                    for _ in range(subsets))
        self.conv_b = nn.ModuleList(nn.Conv2d(in_channels, self.inter, 1)
                                    for _ in range(subsets))
        self.conv_d = nn.ModuleList(nn.Conv2d(in_channels, out_channels, 1)
                                    for _ in range(subsets))
        self.down: nn.Module = nn.Identity() if in_channels == out_channels else nn.Sequential(
            nn.Conv2d(in_channels, out_channels, 1), nn.BatchNorm2d(out_channels))
        self.bn = nn.BatchNorm2d(out_channels)
        self.relu = nn.ReLU()
        for module in self.modules():
            if isinstance(module, nn.Conv2d):
                conv_init(module)
            elif isinstance(module, nn.BatchNorm2d):
                bn_init(module, 1.0)
        bn_init(self.bn, 1e-6)
        for conv in self.conv_d:  # conv_branch_init of the released code
            assert isinstance(conv, nn.Conv2d)
            fan = conv.out_channels * conv.in_channels * subsets
            nn.init.normal_(conv.weight, 0.0, math.sqrt(2.0 / fan))

    def forward(self, x: torch.Tensor, mask: FrameMask) -> torch.Tensor:
        n, c, t, v = x.shape
        graphs = self.adjacency + self.PA
        weights = mask.weights(x)  # the attention sums over valid frames only
        scale = (self.inter * t if weights is None
                 else self.inter * weights.sum(dim=2, keepdim=True)[:, :, :, 0])
        y = None
        for k, (conv_a, conv_b, conv_d) in enumerate(zip(self.conv_a, self.conv_b, self.conv_d,
                                                         strict=True)):
            theta, phi = mask.apply(conv_a(x)), mask.apply(conv_b(x))
            theta = theta.permute(0, 3, 1, 2).reshape(n, v, self.inter * t)
            attention = torch.softmax(theta @ phi.reshape(n, self.inter * t, v) / scale, dim=-2)
            z = conv_d((x.reshape(n, c * t, v) @ (attention + graphs[k])).view(n, c, t, v))
            y = z if y is None else y + z
        assert y is not None
        return self.relu(self.bn(y) + self.down(x))


class AGCNBlock(nn.Module):
    """Adaptive graph conv → temporal conv (BN) + residual → ReLU."""

    def __init__(self, in_channels: int, out_channels: int, adjacency: torch.Tensor,
                 stride: int = 1, residual: bool = True) -> None:
        super().__init__()
        self.gcn = AdaptiveGraphConv(in_channels, out_channels, adjacency)
        self.tcn = nn.Sequential(nn.Conv2d(out_channels, out_channels, (9, 1), (stride, 1),
                                           (4, 0)), nn.BatchNorm2d(out_channels))
        if not residual:
            self.residual: nn.Module | None = None
        elif in_channels == out_channels and stride == 1:
            self.residual = nn.Identity()
        else:
            self.residual = nn.Sequential(nn.Conv2d(in_channels, out_channels, 1, (stride, 1)),
                                          nn.BatchNorm2d(out_channels))
        for module in [*self.tcn.modules(), *(self.residual.modules() if self.residual else [])]:
            if isinstance(module, nn.Conv2d):
                conv_init(module)
            elif isinstance(module, nn.BatchNorm2d):
                bn_init(module, 1.0)
        self.relu = nn.ReLU()
        self.stride = stride

    def forward(self, x: torch.Tensor, mask: FrameMask) -> tuple[torch.Tensor, FrameMask]:
        x = mask.apply(x)
        out = self.tcn(mask.apply(self.gcn(x, mask)))
        if self.residual is not None:
            out = out + self.residual(x)
        return self.relu(out), mask.strided(self.stride, out.shape[2])


@dataclass
class AGCNConfig:
    """Encoder section for 2s-AGCN (``base_channels: 64`` = full width, 16 = 1/4)."""

    name: str = "agcn"
    base_channels: AtLeastOne = 64
    feature_dim: AtLeastOne = 256


class AGCN(MapEncoder):
    """2s-AGCN encoder: x[N, C, T, V, M] (+ lengths) → features[N, feature_dim]."""

    Config = AGCNConfig
    provides: ClassVar[frozenset[str]] = frozenset({"feature_maps"})

    def __init__(self, layout: Layout | str = "ntu25", in_channels: int = 3, persons: int = 2,
                 base_channels: int = 64, feature_dim: int = 256) -> None:
        super().__init__()
        layout = load_layout(layout)
        adjacency = torch.tensor(layout.directed_adjacency())
        v, w = layout.num_joints, base_channels
        self.persons = persons
        self.data_bn = nn.BatchNorm1d(persons * in_channels * v)  # over M·V·C, as released
        bn_init(self.data_bn, 1.0)
        plan = [(in_channels, w, 1), (w, w, 1), (w, w, 1), (w, w, 1), (w, 2 * w, 2),
                (2 * w, 2 * w, 1), (2 * w, 2 * w, 1), (2 * w, 4 * w, 2), (4 * w, 4 * w, 1),
                (4 * w, feature_dim, 1)]
        self.blocks = nn.ModuleList(AGCNBlock(cin, cout, adjacency, stride, residual=i > 0)
                                    for i, (cin, cout, stride) in enumerate(plan))
        self.feature_dim: int = feature_dim

    @classmethod
    def from_config(cls, config: AGCNConfig, *, layout: Layout, in_channels: int,
                    persons: int) -> AGCN:
        return cls(layout, in_channels, persons, config.base_channels, config.feature_dim)

    def _maps(self, x: torch.Tensor, lengths: torch.Tensor | None
              ) -> tuple[torch.Tensor, FrameMask]:
        n, c, t, v, m = x.shape
        if m != self.persons:
            raise ValueError(f"AGCN built for {self.persons} persons, got {m} (data.persons)")
        mask = FrameMask(lengths, t, m)
        x = self.data_bn(x.permute(0, 4, 3, 1, 2).reshape(n, m * v * c, t))
        x = x.view(n, m, v, c, t).permute(0, 1, 3, 4, 2).reshape(n * m, c, t, v)
        for block in self.blocks:
            x, mask = block(x, mask)
        return x, mask
