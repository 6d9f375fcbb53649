"""The encoder contract: what methods, the engine and evaluation may rely on.

Every encoder maps joints ``x[N, C, T, V, M]`` (+ valid lengths) to features ``[N, D]``, any
layout, any C, any number of persons. An encoder class has a ``Config`` dataclass whose
``name`` is its key in ``skelssl.models.ENCODERS`` and a
``from_config(config, *, layout, in_channels, persons)`` constructor. Capabilities beyond
features are named in the class's ``provides`` (``"frames"``: per-frame outputs, see
:class:`FrameEncoder`; ``"feature_maps"``: the last block's maps), and a method names the
capabilities each of its encoder slots needs (CRRL needs ``"frames"``).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol

import torch
from torch import nn

from skelssl.skeleton import Layout


class Encoder(Protocol):
    """An encoder module: ``encoder(x, lengths) -> features[N, feature_dim]``."""

    feature_dim: int

    def __call__(self, x: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        ...


class EncoderClass(Protocol):
    """An encoder class as the registry holds it."""

    Config: ClassVar[type]
    provides: ClassVar[frozenset[str]]

    @classmethod
    def from_config(cls, config: Any, *, layout: Layout, in_channels: int,
                    persons: int) -> nn.Module:
        ...


class FrameEncoder(Protocol):
    """Capability ``"frames"``: a sequence encoder that also gives its per-frame outputs
    [N, T, D] and the size of one flattened input frame (what a frame decoder reproduces)."""

    input_size: int

    def frames(self, x: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        ...


def feature_dim_of(encoder: nn.Module) -> int:
    """An encoder's feature size; every encoder has an integer ``feature_dim``."""
    value = getattr(encoder, "feature_dim", None)
    if not isinstance(value, int):
        raise TypeError(f"{type(encoder).__name__} has no integer feature_dim: not an encoder")
    return value


@dataclass(frozen=True)
class EncoderRecipe:
    """How an encoder was built: enough to build the same architecture again."""

    config: Any  # the encoder's Config dataclass
    in_channels: int
    persons: int

    def to_dict(self) -> dict[str, Any]:
        return {"encoder": dataclasses.asdict(self.config), "in_channels": self.in_channels,
                "persons": self.persons}
