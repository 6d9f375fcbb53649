"""Projection heads."""

from __future__ import annotations

from torch import nn


def projection_head(in_dim: int = 256, hidden_dim: int = 256, out_dim: int = 128,
                    batch_norm: bool = False) -> nn.Module:
    """Linear → ReLU → Linear (MoCo v2 style); ``batch_norm`` adds BatchNorm before the ReLU
    (SimCLR / MoCo v3 style), which centres the hidden layer over the batch."""
    norm: list[nn.Module] = [nn.BatchNorm1d(hidden_dim)] if batch_norm else []
    return nn.Sequential(nn.Linear(in_dim, hidden_dim), *norm, nn.ReLU(inplace=True),
                         nn.Linear(hidden_dim, out_dim))
