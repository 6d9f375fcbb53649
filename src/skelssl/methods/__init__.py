"""Self-supervised methods. Each is an ``nn.Module`` with ``training_step(batch, epoch,
generator)`` returning a dict holding ``"loss"``, optional ``on_epoch_start(epoch)`` and
``on_train_start()`` (called once before a fresh run's first epoch, e.g. to load the encoder of
another run), ``encoders()`` naming what evaluation uses, a ``Config`` dataclass and
``from_config``."""

from __future__ import annotations

from typing import Any

from torch import nn

from skelssl.methods.crossclr import CrosSCLR
from skelssl.methods.crrl import CRRL
from skelssl.methods.skeletonclr import SkeletonCLR
from skelssl.methods.supervised import Supervised
from skelssl.skeleton import Layout

METHODS: dict[str, Any] = {"skeletonclr": SkeletonCLR, "crossclr": CrosSCLR, "crrl": CRRL,
                           "supervised": Supervised}


def build_method(config: Any, layout: Layout) -> nn.Module:
    """The method of a run config (its ``method`` and ``encoder`` sections) for ``layout``."""
    from skelssl.models import build_encoder

    def make_encoder(in_channels: int) -> nn.Module:
        return build_encoder(config.encoder, layout, in_channels, config.data.persons)

    return METHODS[config.method.name].from_config(config.method, layout, make_encoder)


__all__ = ["CRRL", "METHODS", "CrosSCLR", "SkeletonCLR", "Supervised", "build_method"]
