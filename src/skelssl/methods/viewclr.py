"""ViewCLR (Gao, Yang, Du, 2021): SimCLR on two virtual-camera views of one sequence.

    for each batch of joints x:
        view_1, view_2 = camera(x), camera(x)        # random viewpoint (α, β, γ) and distance d
        h = encoder(stream([view_1; view_2]))        # one shared encoder; h is the representation
        z_1, z_2 = normalize(projector(h))           # 2-layer MLP
        loss = NT-Xent(z_1, z_2, τ)                  # over the 2N views of the (global) batch

LARS (``train.optimizer: lars``) and, under DDP, SyncBN (``train.sync_bn: true``) are the
paper's training settings; the embeddings of every rank enter the loss.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

import torch
import torch.nn.functional as F
from torch import nn

from skelssl.errors import ConfigError
from skelssl.losses import nt_xent
from skelssl.methods.base import Batch, EncoderFactory
from skelssl.methods.collapse import collapse_metrics
from skelssl.methods.ranks import gather_with_grad
from skelssl.models.base import feature_dim_of
from skelssl.models.heads import projection_head
from skelssl.models.stream_encoder import StreamEncoder
from skelssl.schema import AtLeastOne, Positive
from skelssl.skeleton import Layout
from skelssl.transforms.camera import ANGLES, MULTIPLES, Camera, virtual_camera
from skelssl.transforms.channels import on_coordinates
from skelssl.transforms.streams import Stream, stream


@dataclass
class ViewCLRConfig:
    """Method section of a config: the virtual camera and SimCLR's head and temperature."""

    name: str = "viewclr"
    stream: Stream = "joint"
    projection_dim: AtLeastOne = 128
    temperature: Positive = 0.1
    head_norm: bool = False  # BatchNorm in the projector's hidden layer (SimCLR's code has it)
    alpha: float | None = None  # rotation about x in degrees; null: drawn from angles
    beta: float | None = None  # about y
    gamma: float | None = None  # about z
    distance: float | None = None  # multiple of distance_unit; null: drawn from multiples
    angles: list[float] = field(default_factory=lambda: list(ANGLES))
    multiples: list[float] = field(default_factory=lambda: list(MULTIPLES))
    distance_unit: list[float] = field(default_factory=lambda: [0.0, 0.0, 1.0])
    per_frame: bool = False  # a new camera for every frame instead of one per sequence

    def __post_init__(self) -> None:
        if len(self.distance_unit) != 3:
            raise ConfigError(f"method.distance_unit = {self.distance_unit}: expected 3 "
                              "coordinates (x, y, z)")
        for key in ("angles", "multiples"):
            if not getattr(self, key):
                raise ConfigError(f"method.{key}: expected at least one value to draw from")

    def camera(self) -> Camera:
        """The virtual camera these settings describe."""
        unit = (self.distance_unit[0], self.distance_unit[1], self.distance_unit[2])
        return Camera(self.alpha, self.beta, self.gamma, self.distance, tuple(self.angles),
                      tuple(self.multiples), unit, self.per_frame)


class ViewCLR(nn.Module):
    """SimCLR with a shared encoder and projector over virtual-camera views."""

    Config = ViewCLRConfig
    encoder_slots: ClassVar[dict[str, set[str]]] = {"encoder": set()}

    def __init__(self, config: ViewCLRConfig, *, layout: Layout,
                 encoders: EncoderFactory) -> None:
        super().__init__()
        self.config = config
        self.layout = layout
        self.camera = config.camera()
        self.encoder = encoders("encoder")
        dim = feature_dim_of(self.encoder)
        self.projector = projection_head(dim, dim, config.projection_dim, config.head_norm)

    @classmethod
    def from_config(cls, config: ViewCLRConfig, *, layout: Layout,
                    encoders: EncoderFactory) -> ViewCLR:
        return cls(config, layout=layout, encoders=encoders)

    def augment(self, x: torch.Tensor, lengths: torch.Tensor,
                generator: torch.Generator | None) -> torch.Tensor:
        """A virtual-camera view of joints x[N, 3, T, V, M], then the configured stream."""
        view = on_coordinates(lambda v: virtual_camera(v, lengths, self.layout.center,
                                                       self.camera, generator), x, self.layout)
        return stream(view, self.config.stream, self.layout)

    def training_step(self, batch: Batch, epoch: int,
                      generator: torch.Generator | None = None) -> dict[str, torch.Tensor]:
        """NT-Xent between two views of every sample, both encoded in one pass."""
        views = torch.cat([self.augment(batch.x, batch.lengths, generator),
                           self.augment(batch.x, batch.lengths, generator)])
        z = F.normalize(self.projector(self.encoder(views)), dim=1)
        z_1, z_2 = z.chunk(2)
        loss = nt_xent(gather_with_grad(z_1), gather_with_grad(z_2), self.config.temperature)
        return {"loss": loss, **collapse_metrics(z_1)}

    def encoders(self) -> dict[str, StreamEncoder]:
        """The encoder (h, before the projector), fed with this method's stream."""
        return {self.config.stream: StreamEncoder(self.encoder, self.config.stream,
                                                  self.layout)}
