"""Self-supervised methods (and the supervised one that finetuning trains).

``METHODS`` names the methods a config's ``method.name`` can choose; the contract every method
follows is in :mod:`skelssl.methods.base`.
"""

from __future__ import annotations

from typing import Any

from torch import nn

from skelssl.methods.actclr import ActCLR
from skelssl.methods.aimclr import AimCLR
from skelssl.methods.base import (
    Batch,
    Method,
    RunModule,
    RunWeights,
    TrainingProgress,
    as_method,
)
from skelssl.methods.crossclr import CrosSCLR
from skelssl.methods.crrl import CRRL
from skelssl.methods.isc import ISC
from skelssl.methods.skeletonclr import SkeletonCLR
from skelssl.methods.supervised import Supervised
from skelssl.methods.viewclr import ViewCLR
from skelssl.models import build_encoder
from skelssl.skeleton import Layout

METHODS: dict[str, Any] = {"skeletonclr": SkeletonCLR, "crossclr": CrosSCLR, "crrl": CRRL,
                           "viewclr": ViewCLR, "aimclr": AimCLR, "actclr": ActCLR, "isc": ISC,
                           "supervised": Supervised}


def build_method(method: Any, encoders: dict[str, Any], *, layout: Layout, channels: int,
                 persons: int) -> nn.Module:
    """The method a ``method`` config section describes, its encoders built from
    ``encoders`` (slot → encoder config section) for inputs of ``channels`` channels and
    ``persons`` persons on ``layout``."""
    cls = METHODS[method.name]

    def make_encoder(slot: str = "encoder", in_channels: int | None = None) -> nn.Module:
        if slot not in encoders:
            raise KeyError(f"method {method.name} asks for encoder section {slot!r}; it "
                           f"declares {sorted(cls.encoder_slots)}")
        return build_encoder(encoders[slot], layout=layout,
                             in_channels=channels if in_channels is None else in_channels,
                             persons=persons)

    return cls.from_config(method, layout=layout, encoders=make_encoder)


__all__ = ["CRRL", "ISC", "METHODS", "ActCLR", "AimCLR", "Batch", "CrosSCLR", "Method",
           "RunModule", "RunWeights", "SkeletonCLR", "Supervised", "TrainingProgress", "ViewCLR",
           "as_method", "build_method"]
