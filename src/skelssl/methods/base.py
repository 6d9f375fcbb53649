"""The method contract: what the engine may call on a method, and what it hands to one.

A method is an ``nn.Module`` class with

- ``Config``: its config dataclass (``name`` = its key in ``skelssl.methods.METHODS``);
- ``encoder_slots``: its encoder sections and the capabilities each needs, e.g.
  ``{"encoder": set()}`` (one section called ``encoder``, any encoder) or CRRL's
  ``{"encoder": {"frames"}}`` (a sequence encoder with per-frame outputs). A method with
  several slots (ISC's ``sequence``, ``graph``, ``image``) reads them from ``encoders:``;
- ``from_config(config, *, layout, encoders)``: ``encoders(slot)`` builds a fresh encoder of
  that section;
- ``training_step(batch, epoch, generator) -> {"loss": ..., other scalars to log}``;
- ``encoders() -> {name: StreamEncoder}``: what evaluation uses, each with its input stream.

Optional, called by the engine when present: ``weights_from_runs() -> [RunWeights |
RunModule]`` (loaded before a fresh run's first epoch), ``on_train_start()`` (after those
weights are in), ``on_epoch_start(epoch)``, ``on_step_start(progress)`` and ``param_groups()``
(optimiser parameter groups; a group may carry ``lr_scale``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, NamedTuple, Protocol, cast

import torch
from torch import nn

from skelssl.models.stream_encoder import StreamEncoder
from skelssl.skeleton import Layout


class Batch(NamedTuple):
    """Joints x[N, C, T, V, M], the number of valid frames of each sample, and the labels
    (read only by supervised training; self-supervised methods ignore them)."""

    x: torch.Tensor
    lengths: torch.Tensor
    labels: torch.Tensor | None = None


@dataclass(frozen=True)
class TrainingProgress:
    """Where training stands at the start of a step (all 0-based)."""

    epoch: int
    step: int
    steps_per_epoch: int
    epochs: int

    @property
    def epoch_float(self) -> float:
        """Fractional epoch: 2.5 = halfway through the third epoch."""
        return self.epoch + self.step / self.steps_per_epoch

    @property
    def fraction(self) -> float:
        """Share of the whole schedule done, in [0, 1)."""
        return self.epoch_float / max(self.epochs, 1)


@dataclass(frozen=True)
class RunWeights:
    """Weights a method takes from another run before its first epoch: the encoder called
    ``encoder`` in ``run_dir``'s ``encoder.pt`` (the last stage of a pipeline), loaded into
    ``into`` (a CRRL teacher, a finetuning initialisation)."""

    run_dir: str
    encoder: str
    into: nn.Module


@dataclass(frozen=True)
class RunModule:
    """A part of another run's method a method takes before its first epoch: the weights under
    ``module`` (e.g. ``head_q``) in the method state of ``run_dir``'s last checkpoint (the last
    stage of a pipeline), loaded into ``into`` (ActCLR's heads from its AimCLR stage)."""

    run_dir: str
    module: str
    into: nn.Module


class EncoderFactory(Protocol):
    """Builds a fresh encoder of one of the method's encoder sections."""

    def __call__(self, slot: str = "encoder", in_channels: int | None = None) -> nn.Module:
        ...


class Method(Protocol):
    """What the engine and evaluation call on a method instance (see the module docstring)."""

    Config: ClassVar[type]
    encoder_slots: ClassVar[dict[str, set[str]]]

    @classmethod
    def from_config(cls, config: Any, *, layout: Layout, encoders: EncoderFactory
                    ) -> Method:
        ...

    def training_step(self, batch: Batch, epoch: int, generator: torch.Generator | None = None
                      ) -> dict[str, torch.Tensor]:
        ...

    def encoders(self) -> dict[str, StreamEncoder]:
        ...


def as_method(module: nn.Module) -> Method:
    """A method module seen through the Method contract (what the engine calls on it)."""
    return cast(Method, module)
