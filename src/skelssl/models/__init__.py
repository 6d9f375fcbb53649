"""Encoders mapping x[N, C, T, V, M] to features[N, feature_dim], and heads.

``ENCODERS`` names the encoders a config's ``encoder.name`` can choose.
"""

from __future__ import annotations

from typing import Any

from torch import nn

from skelssl.models.stgcn import STGCN
from skelssl.skeleton import Layout

ENCODERS: dict[str, Any] = {"stgcn": STGCN}


def build_encoder(config: Any, layout: Layout, in_channels: int = 3) -> nn.Module:
    """The encoder described by an ``encoder`` config section."""
    return ENCODERS[config.name].from_config(config, layout, in_channels)
