"""An encoder together with the input stream it was trained on, as evaluation uses it."""

from __future__ import annotations

import torch
from torch import nn

from skelssl.skeleton import Layout
from skelssl.transforms.streams import stream


class StreamEncoder(nn.Module):
    """Joints x[N, C, T, V, M] (+ valid lengths) → stream → encoder → features[N, D]."""

    def __init__(self, encoder: nn.Module, stream_name: str, layout: Layout) -> None:
        super().__init__()
        self.encoder = encoder
        self.stream_name = stream_name
        self.layout = layout
        self.feature_dim: int = encoder.feature_dim

    def forward(self, x: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        return self.encoder(stream(x, self.stream_name, self.layout, lengths), lengths)
