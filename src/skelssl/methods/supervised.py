"""Supervised training of an encoder with a linear classifier: the finetune protocol when the
encoder starts from a pretrained run (``init``), the supervised baseline when it starts from
scratch (METHODS §7).

    for each labelled batch (x, y):
        x = augment(x)                         # optional: SkeletonCLR's shear + temporal crop
        loss = CE(classifier(encoder(stream(x))), y)   # every weight trainable
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from skelssl.data.loader import Batch
from skelssl.engine.checkpoint import load_run_encoder
from skelssl.engine.pipeline import final_stage_dir
from skelssl.methods.skeletonclr import shear_and_crop
from skelssl.models.stream_encoder import StreamEncoder
from skelssl.skeleton import Layout


@dataclass
class SupervisedConfig:
    """Method section of a supervised (finetune) config."""

    name: str = "supervised"
    num_classes: int = 0  # classes of the dataset (`skelssl eval finetune` fills it in)
    stream: str = "joint"  # joint | motion | bone | velocity | bone_motion
    init: str | None = None  # run directory whose encoder initialises this one; null: scratch
    init_stream: str | None = None  # which encoder of that run (default: `stream`)
    augment: bool = False  # shear + temporal crop of the training batches (fixed-length data)
    shear_beta: float = 0.5
    padding_ratio: int = 6


class Supervised(nn.Module):
    """An encoder (fed with one stream) and a linear classifier, trained with cross-entropy."""

    Config = SupervisedConfig

    def __init__(self, encoder: nn.Module, layout: Layout, num_classes: int,
                 stream_name: str = "joint", init: str | None = None,
                 init_stream: str | None = None, augment: bool = False,
                 shear_beta: float = 0.5, padding_ratio: int = 6) -> None:
        super().__init__()
        if num_classes < 1:
            raise ValueError(f"method.num_classes = {num_classes}; expected the number of "
                             "classes of the dataset")
        self.encoder = StreamEncoder(encoder, stream_name, layout)
        self.classifier = nn.Linear(encoder.feature_dim, num_classes)
        self.stream_name = stream_name
        self.init, self.init_stream = init, init_stream or stream_name
        self.augment, self.shear_beta, self.padding_ratio = augment, shear_beta, padding_ratio

    @classmethod
    def from_config(cls, config: SupervisedConfig, layout: Layout,
                    make_encoder: Callable[[int], nn.Module]) -> Supervised:
        """Build from a config; ``make_encoder(in_channels)`` gives a fresh encoder."""
        return cls(make_encoder(3), layout, config.num_classes, config.stream, config.init,
                   config.init_stream, config.augment, config.shear_beta, config.padding_ratio)

    def on_train_start(self) -> None:
        """Load the ``init`` run's encoder before the first epoch."""
        if self.init is not None:
            load_run_encoder(final_stage_dir(Path(self.init)), self.encoder.encoder,
                             self.init_stream)

    def forward(self, x: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        """Class scores (N, classes) of joints x[N, C, T, V, M]."""
        return self.classifier(self.encoder(x, lengths))

    def training_step(self, batch: Batch, epoch: int,
                      generator: torch.Generator | None = None) -> dict[str, torch.Tensor]:
        """Cross-entropy on one labelled batch; also logs the batch's top-1 (in percent)."""
        if batch.labels is None:
            raise ValueError("supervised training needs the batch labels")
        x = batch.x
        if self.augment:
            x = shear_and_crop(x, self.shear_beta, self.padding_ratio, generator)
        logits = self(x, batch.lengths)
        accuracy = (logits.argmax(dim=1) == batch.labels).float().mean() * 100
        return {"loss": F.cross_entropy(logits, batch.labels), "train_top1": accuracy.detach()}

    def encoders(self) -> dict[str, nn.Module]:
        """The (finetuned) encoder, fed with this method's stream."""
        return {self.stream_name: self.encoder}
