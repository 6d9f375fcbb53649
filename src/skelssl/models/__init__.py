"""Encoders mapping x[N, C, T, V, M] to features[N, feature_dim], and heads.

``ENCODERS`` names the encoders a config's ``encoder.name`` can choose; each class provides
the capabilities listed in its ``provides`` (see :mod:`skelssl.models.base`).
"""

from __future__ import annotations

from typing import Any

from torch import nn

from skelssl.models.agcn import AGCN
from skelssl.models.base import EncoderRecipe
from skelssl.models.gru import BiGRU, BiLSTM
from skelssl.models.hcn import HCN
from skelssl.models.resnet import ResNet
from skelssl.models.stgcn import STGCN
from skelssl.models.stream_encoder import StreamEncoder
from skelssl.schema import named_section
from skelssl.skeleton import Layout, layout_from_dict

ENCODERS: dict[str, Any] = {"stgcn": STGCN, "agcn": AGCN, "bigru": BiGRU, "bilstm": BiLSTM,
                            "hcn": HCN, "resnet": ResNet}


def build_encoder(config: Any, *, layout: Layout, in_channels: int, persons: int) -> nn.Module:
    """The encoder an encoder config section describes, for inputs of ``in_channels`` channels
    and ``persons`` persons on ``layout``; it remembers how it was built (``recipe``), so that
    ``encoder.pt`` can describe it."""
    encoder = ENCODERS[config.name].from_config(config, layout=layout, in_channels=in_channels,
                                                persons=persons)
    setattr(encoder, "recipe", EncoderRecipe(config, in_channels, persons))  # noqa: B010
    return encoder


def encoder_from_description(description: dict[str, Any], source: str) -> StreamEncoder:
    """Rebuild (at a fresh initialisation) the stream encoder ``StreamEncoder.describe`` gave."""
    layout = layout_from_dict(description["layout"], source=source)
    config = named_section(ENCODERS, description["encoder"], f"{source}: encoder", "encoder")
    encoder = build_encoder(config, layout=layout, in_channels=int(description["in_channels"]),
                            persons=int(description["persons"]))
    return StreamEncoder(encoder, description["stream"], layout)


__all__ = ["ENCODERS", "StreamEncoder", "build_encoder", "encoder_from_description"]
