"""ResNet over the skeleton pseudo-image (ViewCLR's image encoder), written here.

Each person's sequence is an image: C channels (the coordinates), T rows (frames), V columns
(joints). A ResNet of basic (depth 18, 34) or bottleneck (50) blocks with four stages of widths
w, 2w, 4w, 8w (strides 1, 2, 2, 2) maps it to a feature map that is averaged over valid frames
and joints, then over persons. ``stem: small`` (3×3 conv, stride 1; the default, for images of
a few dozen pixels) or ``imagenet`` (7×7 conv stride 2, 3×3 max-pool stride 2). Features:
8w (basic) or 32w (bottleneck); with w = 64 and the small stem: ResNet-18 11.2 M, ResNet-34
21.3 M, ResNet-50 23.5 M parameters. Frames beyond a sample's length are zeroed before every
convolution that reaches across frames, so padding never changes a feature.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Literal

import torch
from torch import nn

from skelssl.models.masking import FrameMask, MapEncoder
from skelssl.schema import AtLeastOne
from skelssl.skeleton import Layout

STAGES = {18: ("basic", (2, 2, 2, 2)), 34: ("basic", (3, 4, 6, 3)),
          50: ("bottleneck", (3, 4, 6, 3))}


def conv_bn(in_channels: int, out_channels: int, kernel: int, stride: int = 1) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(in_channels, out_channels, kernel, stride, kernel // 2,
                                   bias=False), nn.BatchNorm2d(out_channels))


class Block(nn.Module):
    """Basic (3×3, 3×3) or bottleneck (1×1, 3×3, 1×1 ×4) residual block."""

    def __init__(self, kind: str, in_channels: int, width: int, stride: int) -> None:
        super().__init__()
        expansion = 4 if kind == "bottleneck" else 1
        out_channels = width * expansion
        if kind == "basic":
            self.convs = nn.ModuleList([conv_bn(in_channels, width, 3, stride),
                                        conv_bn(width, width, 3)])
            self.strides = [stride, 1]
        else:
            self.convs = nn.ModuleList([conv_bn(in_channels, width, 1),
                                        conv_bn(width, width, 3, stride),
                                        conv_bn(width, out_channels, 1)])
            self.strides = [1, stride, 1]
        self.shortcut: nn.Module = (nn.Identity() if stride == 1 and in_channels == out_channels
                                    else conv_bn(in_channels, out_channels, 1, stride))
        self.relu = nn.ReLU(inplace=True)
        self.out_channels = out_channels

    def forward(self, x: torch.Tensor, mask: FrameMask) -> tuple[torch.Tensor, FrameMask]:
        x = mask.apply(x)
        out, here = x, mask
        for i, (conv, stride) in enumerate(zip(self.convs, self.strides, strict=True)):
            out = conv(here.apply(out))
            if stride > 1:  # the mask follows the strided convolution
                here = here.strided(stride, out.shape[2])
            if i < len(self.convs) - 1:
                out = self.relu(out)
        return self.relu(out + self.shortcut(x)), here


@dataclass
class ResNetConfig:
    """Encoder section for the pseudo-image ResNet (``base_channels`` = w)."""

    name: str = "resnet"
    depth: Literal[18, 34, 50] = 18
    base_channels: AtLeastOne = 64
    stem: Literal["small", "imagenet"] = "small"


class ResNet(MapEncoder):
    """ResNet encoder: x[N, C, T, V, M] (+ lengths) → features[N, 8w or 32w]."""

    Config = ResNetConfig
    provides: ClassVar[frozenset[str]] = frozenset({"feature_maps"})

    def __init__(self, in_channels: int = 3, depth: int = 18, base_channels: int = 64,
                 stem: str = "small") -> None:
        super().__init__()
        kind, counts = STAGES[depth]
        w = base_channels
        if stem == "small":
            self.stem = nn.Sequential(conv_bn(in_channels, w, 3), nn.ReLU(inplace=True))
            self.stem_stride = 1
        else:
            self.stem = nn.Sequential(conv_bn(in_channels, w, 7, 2), nn.ReLU(inplace=True),
                                      nn.MaxPool2d(3, 2, 1))
            self.stem_stride = 4
        blocks, channels = [], w
        for stage, count in enumerate(counts):
            for i in range(count):
                block = Block(kind, channels, w * 2 ** stage, 2 if i == 0 and stage else 1)
                blocks.append(block)
                channels = block.out_channels
        self.blocks = nn.ModuleList(blocks)
        self.feature_dim: int = channels
        for module in self.modules():
            if isinstance(module, nn.Conv2d):
                nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(module, nn.BatchNorm2d):
                nn.init.ones_(module.weight)
                nn.init.zeros_(module.bias)

    @classmethod
    def from_config(cls, config: ResNetConfig, *, layout: Layout, in_channels: int,
                    persons: int) -> ResNet:
        return cls(in_channels, config.depth, config.base_channels, config.stem)

    def _maps(self, x: torch.Tensor, lengths: torch.Tensor | None
              ) -> tuple[torch.Tensor, FrameMask]:
        n, c, t, v, m = x.shape
        mask = FrameMask(lengths, t, m)
        out = self.stem(mask.apply(x.permute(0, 4, 1, 2, 3).reshape(n * m, c, t, v)))
        if self.stem_stride > 1:
            mask = mask.strided(self.stem_stride, out.shape[2])
        for block in self.blocks:
            out, mask = block(out, mask)
        return out, mask
