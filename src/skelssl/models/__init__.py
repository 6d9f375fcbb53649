"""Encoders mapping x[N, C, T, V, M] to features[N, feature_dim], and heads.

``ENCODERS`` names the encoders a config's ``encoder.name`` can choose.
"""

from __future__ import annotations

from typing import Any

from torch import nn

from skelssl.models.gru import BiGRU, BiLSTM
from skelssl.models.stgcn import STGCN
from skelssl.skeleton import Layout

ENCODERS: dict[str, Any] = {"stgcn": STGCN, "bigru": BiGRU, "bilstm": BiLSTM}


def build_encoder(config: Any, layout: Layout, in_channels: int = 3, persons: int = 2
                  ) -> nn.Module:
    """The encoder described by an ``encoder`` config section, for inputs of ``in_channels``
    channels and ``persons`` persons on ``layout``."""
    return ENCODERS[config.name].from_config(config, layout, in_channels, persons)
