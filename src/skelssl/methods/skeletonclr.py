"""SkeletonCLR (Li et al., CVPR 2021): MoCo v2 on two shear + temporal-crop views of one stream.

    for each batch of joints x:
        view_q, view_k = augment(x), augment(x)          # shear β, crop with mirrored padding
        q = normalize(head_q(encoder_q(stream(view_q))))
        k = normalize(head_k(encoder_k(stream(view_k))))  # momentum encoder, no gradient
        loss = InfoNCE(q, k, queue, τ); queue ← k; θ_k ← m·θ_k + (1 − m)·θ_q
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch
import torch.nn.functional as F
from torch import nn

from skelssl.losses import infonce
from skelssl.methods.base import Batch, EncoderFactory
from skelssl.methods.collapse import collapse_metrics
from skelssl.methods.moco import FeatureQueue, momentum_update, query_and_key
from skelssl.models.stream_encoder import StreamEncoder
from skelssl.schema import AtLeastOne, Fraction, NonNegative, Positive
from skelssl.skeleton import Layout
from skelssl.transforms.channels import on_coordinates
from skelssl.transforms.spatial import shear
from skelssl.transforms.streams import Stream, stream
from skelssl.transforms.temporal import temporal_crop


@dataclass
class SkeletonCLRConfig:
    """Method section of a config (defaults: the paper's NTU settings)."""

    name: str = "skeletonclr"
    stream: Stream = "joint"
    queue_size: AtLeastOne = 32768
    projection_dim: AtLeastOne = 128
    temperature: Positive = 0.07
    momentum: Fraction = 0.999
    shear_beta: NonNegative = 0.5
    padding_ratio: AtLeastOne = 6
    head_norm: bool = False  # BatchNorm in the projection head (not in the paper)


def shear_and_crop(x: torch.Tensor, layout: Layout, beta: float, padding_ratio: int,
                   generator: torch.Generator | None) -> torch.Tensor:
    """SkeletonCLR's augmentation of joints: random shear of the coordinates, then a mirrored
    temporal crop."""
    sheared = on_coordinates(lambda v: shear(v, beta, generator), x, layout)
    return temporal_crop(sheared, padding_ratio, generator)


class SkeletonCLR(nn.Module):
    """Single-stream MoCo with a momentum key encoder and a queue of negatives."""

    Config = SkeletonCLRConfig
    encoder_slots: ClassVar[dict[str, set[str]]] = {"encoder": set()}

    def __init__(self, config: SkeletonCLRConfig, *, layout: Layout,
                 encoders: EncoderFactory) -> None:
        super().__init__()
        self.config = config
        self.layout = layout
        self.encoder_q, self.head_q, self.encoder_k, self.head_k = query_and_key(
            encoders("encoder"), config.projection_dim, config.head_norm)
        self.queue = FeatureQueue(config.queue_size, config.projection_dim)

    @classmethod
    def from_config(cls, config: SkeletonCLRConfig, *, layout: Layout,
                    encoders: EncoderFactory) -> SkeletonCLR:
        return cls(config, layout=layout, encoders=encoders)

    def augment(self, x: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
        """Shear + temporal crop, then the configured stream."""
        view = shear_and_crop(x, self.layout, self.config.shear_beta,
                              self.config.padding_ratio, generator)
        return stream(view, self.config.stream, self.layout)

    def embed_query(self, view: torch.Tensor) -> torch.Tensor:
        return F.normalize(self.head_q(self.encoder_q(view)), dim=1)

    @torch.no_grad()
    def embed_key(self, view: torch.Tensor) -> torch.Tensor:
        momentum_update(self.encoder_k, self.encoder_q, self.config.momentum)
        momentum_update(self.head_k, self.head_q, self.config.momentum)
        return F.normalize(self.head_k(self.encoder_k(view)), dim=1)

    def training_step(self, batch: Batch, epoch: int,
                      generator: torch.Generator | None = None) -> dict[str, torch.Tensor]:
        """One MoCo step on a batch of joints x[N, C, T, V, M] (all T frames valid)."""
        return self.contrast(self.augment(batch.x, generator), self.augment(batch.x, generator))

    def contrast(self, view_q: torch.Tensor, view_k: torch.Tensor) -> dict[str, torch.Tensor]:
        """InfoNCE between two already augmented views; the keys then enter the queue."""
        q = self.embed_query(view_q)
        k = self.embed_key(view_k)
        loss = infonce(q, k, self.queue.keys.clone().detach(), self.config.temperature)
        self.queue.push(k)
        return {"loss": loss, **collapse_metrics(q)}

    def encoders(self) -> dict[str, StreamEncoder]:
        """The query encoder, fed with this method's stream."""
        return {self.config.stream: StreamEncoder(self.encoder_q, self.config.stream,
                                                  self.layout)}
