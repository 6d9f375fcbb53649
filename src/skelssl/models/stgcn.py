"""ST-GCN encoder (Yan et al.) as used by SkeletonCLR, CrosSCLR, AimCLR and ActCLR.

Block = graph conv → BN → ReLU → temporal conv (9×1, stride s) → BN → Dropout → + residual →
ReLU. Ten blocks of widths w, w, w, w, 2w (s2), 2w, 2w, 4w (s2), 4w, feature_dim; features are
averaged over (T', V) and then over persons. ``hidden_channels=16`` is the papers' 1/4 width
(0.82 M parameters on NTU with feature_dim 256; 3.08 M at full width 64). Frames beyond a
sample's length are masked before every temporal convolution and left out of the pooling.
Weights start as the released code's (N(0, 0.02)) or, with ``weight_init: kaiming``, as the
released 2s-AGCN code's (Kaiming fan-out convolutions, BatchNorm at 1): with BatchNorm after
every convolution a smaller weight norm means a larger effective step, so the two start
training at very different effective learning rates.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Literal

import torch
from torch import nn

from skelssl.models.init import init_kaiming_weights, init_stgcn_weights
from skelssl.models.masking import FrameMask, MapEncoder
from skelssl.schema import AtLeastOne, DropRate
from skelssl.skeleton import Layout, load_layout


class Dropout(nn.Dropout):
    """Dropout that draws its CPU mask with ``rand`` (about 2.5× faster than ``bernoulli_``)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0 or x.is_cuda:
            return super().forward(x)
        return x * (torch.rand_like(x) >= self.p) * (1.0 / (1.0 - self.p))


class GraphConv(nn.Module):
    """out[w] = Σ_k Σ_v (W_k x)[v] · A_k[v, w], with A_k given per call (K, V, V)."""

    def __init__(self, in_channels: int, out_channels: int, partitions: int) -> None:
        super().__init__()
        self.partitions = partitions
        self.conv = nn.Conv2d(in_channels, out_channels * partitions, kernel_size=1)

    def forward(self, x: torch.Tensor, adjacency: torch.Tensor) -> torch.Tensor:
        n, _, t, v = x.shape
        y = self.conv(x).view(n, self.partitions, -1, t, v)
        return torch.einsum("nkctv,kvw->nctw", y, adjacency)


class STGCNBlock(nn.Module):
    """One spatial-temporal block with its learnable edge-importance mask."""

    def __init__(self, in_channels: int, out_channels: int, adjacency: torch.Tensor,
                 stride: int = 1, dropout: float = 0.0, residual: bool = True,
                 kernel_size: int = 9) -> None:
        super().__init__()
        self.gcn = GraphConv(in_channels, out_channels, adjacency.shape[0])
        self.tcn = nn.Sequential(
            nn.BatchNorm2d(out_channels),
            nn.ReLU(inplace=True),
            nn.Conv2d(out_channels, out_channels, (kernel_size, 1), (stride, 1),
                      ((kernel_size - 1) // 2, 0)),
            nn.BatchNorm2d(out_channels),
            Dropout(dropout),
        )
        if not residual:
            self.residual: nn.Module | None = None
        elif in_channels == out_channels and stride == 1:
            self.residual = nn.Identity()
        else:
            self.residual = nn.Sequential(
                nn.Conv2d(in_channels, out_channels, 1, (stride, 1)),
                nn.BatchNorm2d(out_channels))
        self.edge_importance = nn.Parameter(torch.ones_like(adjacency))
        self.relu = nn.ReLU(inplace=True)
        self.stride = stride

    def forward(self, x: torch.Tensor, adjacency: torch.Tensor, mask: FrameMask
                ) -> tuple[torch.Tensor, FrameMask]:
        """The block's output and the valid-frame mask at its output resolution."""
        x = mask.apply(x)
        out = self.tcn[1](self.tcn[0](self.gcn(x, adjacency * self.edge_importance)))
        out = self.tcn[4](self.tcn[3](self.tcn[2](mask.apply(out))))  # BN, ReLU | conv, BN, drop
        if self.residual is not None:
            out = out + self.residual(x)
        return self.relu(out), mask.strided(self.stride, out.shape[2])


@dataclass
class STGCNConfig:
    """Encoder section of a config for ST-GCN (``hidden_channels: 16`` = the papers' 1/4)."""

    name: str = "stgcn"
    hidden_channels: AtLeastOne = 16
    feature_dim: AtLeastOne = 256
    dropout: DropRate = 0.5
    center_distance: Literal["graph", "max_hop"] = "graph"  # paper | released ST-GCN code
    weight_init: Literal["normal", "kaiming"] = "normal"  # released ST-GCN code | 2s-AGCN's


class STGCN(MapEncoder):
    """ST-GCN encoder: x[N, C, T, V, M] → features[N, feature_dim]."""

    Config = STGCNConfig
    provides: ClassVar[frozenset[str]] = frozenset({"feature_maps"})

    def __init__(self, layout: Layout | str = "ntu25", in_channels: int = 3,
                 hidden_channels: int = 16, feature_dim: int = 256, dropout: float = 0.5,
                 center_distance: Literal["graph", "max_hop"] = "graph",
                 weight_init: Literal["normal", "kaiming"] = "normal") -> None:
        super().__init__()
        layout = load_layout(layout)
        adjacency = torch.tensor(layout.adjacency(center_distance=center_distance))
        self.register_buffer("adjacency", adjacency)
        v, w = layout.num_joints, hidden_channels
        self.data_bn = nn.BatchNorm1d(in_channels * v)
        plan = [(in_channels, w, 1), (w, w, 1), (w, w, 1), (w, w, 1), (w, 2 * w, 2),
                (2 * w, 2 * w, 1), (2 * w, 2 * w, 1), (2 * w, 4 * w, 2), (4 * w, 4 * w, 1),
                (4 * w, feature_dim, 1)]
        self.blocks = nn.ModuleList(
            STGCNBlock(cin, cout, adjacency, stride, dropout=0.0 if i == 0 else dropout,
                       residual=i > 0)
            for i, (cin, cout, stride) in enumerate(plan))
        self.feature_dim: int = feature_dim
        if weight_init == "kaiming":
            init_kaiming_weights(self)
        else:
            init_stgcn_weights(self)

    @classmethod
    def from_config(cls, config: STGCNConfig, *, layout: Layout, in_channels: int,
                    persons: int) -> STGCN:
        """Build from a config section (persons are folded into the batch, any number works)."""
        return cls(layout, in_channels, config.hidden_channels, config.feature_dim,
                   config.dropout, config.center_distance, config.weight_init)

    def _maps(self, x: torch.Tensor, lengths: torch.Tensor | None
              ) -> tuple[torch.Tensor, FrameMask]:
        n, c, t, v, m = x.shape
        mask = FrameMask(lengths, t, m)
        x = x.permute(0, 4, 3, 1, 2).reshape(n * m, v * c, t)  # BN over V·C per person
        x = self.data_bn(x).view(n * m, v, c, t).permute(0, 2, 3, 1)
        for block in self.blocks:
            x, mask = block(x, self.adjacency, mask)
        return x, mask
