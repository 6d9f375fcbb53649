"""An encoder together with the input stream it was trained on, as evaluation uses it."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from skelssl.models.base import EncoderRecipe, feature_dim_of
from skelssl.skeleton import Layout
from skelssl.transforms.streams import stream


class StreamEncoder(nn.Module):
    """Joints x[N, C, T, V, M] (+ valid lengths) → stream → encoder → features[N, D]."""

    def __init__(self, encoder: nn.Module, stream_name: str, layout: Layout) -> None:
        super().__init__()
        self.encoder = encoder
        self.stream_name = stream_name
        self.layout = layout
        self.feature_dim: int = feature_dim_of(encoder)

    def forward(self, x: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        return self.encoder(stream(x, self.stream_name, self.layout, lengths), lengths)

    def describe(self) -> dict[str, Any]:
        """What rebuilds this encoder without its method: the encoder's config, input
        channels and persons, the input stream, the layout and the feature size."""
        recipe = getattr(self.encoder, "recipe", None)
        if not isinstance(recipe, EncoderRecipe):
            raise TypeError(f"{type(self.encoder).__name__} was not built by "
                            "skelssl.models.build_encoder, so it cannot describe itself")
        return {**recipe.to_dict(), "stream": self.stream_name, "layout": self.layout.to_dict(),
                "feature_dim": self.feature_dim}
