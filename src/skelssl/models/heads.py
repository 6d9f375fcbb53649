"""Projection heads."""

from __future__ import annotations

from torch import nn


def projection_head(in_dim: int = 256, hidden_dim: int = 256, out_dim: int = 128) -> nn.Module:
    """Linear → ReLU → Linear (MoCo v2 style)."""
    return nn.Sequential(nn.Linear(in_dim, hidden_dim), nn.ReLU(inplace=True),
                         nn.Linear(hidden_dim, out_dim))
