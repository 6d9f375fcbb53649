"""Supervised training of an encoder with a linear classifier: the finetune protocol when the
encoder starts from a pretrained run (``init``), the supervised baseline when it starts from
scratch (docs/training.md#evaluation).

    for each labelled batch (x, y):
        x = augment(x)                         # optional: SkeletonCLR's shear + temporal crop
        loss = CE(classifier(encoder(stream(x))), y)   # every weight trainable
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch
import torch.nn.functional as F
from torch import nn

from skelssl.errors import ConfigError
from skelssl.methods.base import Batch, EncoderFactory, RunWeights
from skelssl.methods.skeletonclr import shear_and_crop
from skelssl.models.stream_encoder import StreamEncoder
from skelssl.schema import AtLeastOne, NonNegative, NonNegativeInt
from skelssl.skeleton import Layout
from skelssl.transforms.streams import Stream


@dataclass
class SupervisedConfig:
    """Method section of a supervised (finetune) config."""

    name: str = "supervised"
    num_classes: NonNegativeInt = 0  # classes of the dataset (`skelssl eval finetune` fills it in)
    stream: Stream = "joint"
    init: str | None = None  # run directory whose encoder initialises this one; null: scratch
    init_stream: str | None = None  # which encoder of that run (default: `stream`)
    augment: bool = False  # shear + temporal crop of the training batches (fixed-length data)
    shear_beta: NonNegative = 0.5
    padding_ratio: AtLeastOne = 6


class Supervised(nn.Module):
    """An encoder (fed with one stream) and a linear classifier, trained with cross-entropy."""

    Config = SupervisedConfig
    encoder_slots: ClassVar[dict[str, set[str]]] = {"encoder": set()}

    def __init__(self, config: SupervisedConfig, *, layout: Layout,
                 encoders: EncoderFactory) -> None:
        super().__init__()
        if config.num_classes < 1:
            raise ConfigError(f"method.num_classes = {config.num_classes}; expected the number "
                              "of classes of the dataset")
        self.config = config
        self.layout = layout
        self.encoder = StreamEncoder(encoders("encoder"), config.stream, layout)
        self.classifier = nn.Linear(self.encoder.feature_dim, config.num_classes)

    @classmethod
    def from_config(cls, config: SupervisedConfig, *, layout: Layout,
                    encoders: EncoderFactory) -> Supervised:
        return cls(config, layout=layout, encoders=encoders)

    def weights_from_runs(self) -> list[RunWeights]:
        """The ``init`` run's encoder, when finetuning."""
        if self.config.init is None:
            return []
        return [RunWeights(self.config.init, self.config.init_stream or self.config.stream,
                           self.encoder.encoder)]

    def forward(self, x: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        """Class scores (N, classes) of joints x[N, C, T, V, M]."""
        return self.classifier(self.encoder(x, lengths))

    def training_step(self, batch: Batch, epoch: int,
                      generator: torch.Generator | None = None) -> dict[str, torch.Tensor]:
        """Cross-entropy on one labelled batch; also logs the batch's top-1 (in percent)."""
        if batch.labels is None:
            raise ValueError("supervised training needs the batch labels")
        x = batch.x
        if self.config.augment:
            x = shear_and_crop(x, self.layout, self.config.shear_beta,
                               self.config.padding_ratio, generator)
        logits = self(x, batch.lengths)
        accuracy = (logits.argmax(dim=1) == batch.labels).float().mean() * 100
        return {"loss": F.cross_entropy(logits, batch.labels), "train_top1": accuracy.detach()}

    def encoders(self) -> dict[str, StreamEncoder]:
        """The (finetuned) encoder, fed with this method's stream."""
        return {self.config.stream: self.encoder}
