"""ISC (Thoker et al., ACM MM 2021): contrast within and across the sequence, graph and image
representations of a skeleton sequence.

    for each batch of joints x:
        view_q, view_k = augment(x), augment(x)        # crop-resize, then pose shear or jitter
        for each representation r (sequence: BiGRU, graph: 2s-AGCN, image: HCN):
            q_r = normalize(head_r(encoder_r(view_q)))
            k_r = normalize(head_k_r(encoder_k_r(view_k)))     # its own momentum encoder
        intra: Σ_r InfoNCE(q_r, k_r, queue_r)                   (eq. 5)
        inter: Σ_{r<s} InfoNCE(q_r, k_s, queue_s) + InfoNCE(q_s, k_r, queue_r)   (eqs. 6–8)
        queue_r ← k_r
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import ClassVar, Literal, cast

import torch
import torch.nn.functional as F
from torch import nn

from skelssl.errors import ConfigError
from skelssl.losses import cross_contrast, infonce
from skelssl.methods.base import Batch, EncoderFactory
from skelssl.methods.collapse import collapse_metrics
from skelssl.methods.moco import FeatureQueue, momentum_update, query_and_key
from skelssl.models.stream_encoder import StreamEncoder
from skelssl.schema import AtLeastOne, Fraction, NonNegative, NonNegativeInt, Positive
from skelssl.skeleton import Layout
from skelssl.transforms.channels import on_coordinates
from skelssl.transforms.isc import crop_resize, jitter_count, joint_jitter, pose_or_jitter
from skelssl.transforms.spatial import shear

Representation = Literal["sequence", "graph", "image"]
REPRESENTATIONS: tuple[Representation, ...] = ("sequence", "graph", "image")


@dataclass
class ISCConfig:
    """Method section of a config (defaults: the paper's NTU settings)."""

    name: str = "isc"
    representations: list[Representation] = field(
        default_factory=lambda: ["sequence", "graph"])  # the paper's main pair
    intra: bool = False  # MoCo within each representation (eq. 5)
    inter: bool = True  # cross-contrast between every pair (eqs. 6-8)
    queue_size: AtLeastOne = 16384
    projection_dim: AtLeastOne = 128
    temperature: Positive = 0.07
    momentum: Fraction = 0.999
    frames: AtLeastOne = 64  # crop-resize output length
    crop_resize: bool = True  # the temporal crop-resize (else the whole sequence, resized)
    min_crop: Fraction = 0.1  # shortest window, as a fraction of the sequence
    min_crop_frames: NonNegativeInt = 0  # and at least this many frames (released code: 64)
    pose: bool = True  # the pose shear
    jitter: bool = True  # the joint jitter (with pose: one of the two per sample)
    shear_beta: NonNegative = 1.0  # pose shear off-diagonals U(−β, β)
    jitter_joints: AtLeastOne | None = None  # null: ISC's 15 of 25, scaled to the layout

    def __post_init__(self) -> None:
        """Settings the field types alone do not express."""
        chosen = self.representations
        if not chosen or len(set(chosen)) != len(chosen):
            raise ConfigError(f"method.representations = {chosen}: expected distinct names "
                              f"among {', '.join(REPRESENTATIONS)}")
        if not (self.intra or self.inter):
            raise ConfigError("method: nothing to learn; set intra: true and/or inter: true")
        if self.inter and len(chosen) < 2:
            raise ConfigError("method.inter needs at least two representations")


class ISC(nn.Module):
    """One encoder, head, momentum key encoder and queue per representation."""

    Config = ISCConfig
    encoder_slots: ClassVar[dict[str, set[str]]] = {name: set() for name in REPRESENTATIONS}

    def __init__(self, config: ISCConfig, *, layout: Layout, encoders: EncoderFactory) -> None:
        super().__init__()
        self.config = config
        self.layout = layout
        names = list(config.representations)
        built = {name: query_and_key(encoders(name), config.projection_dim) for name in names}
        self.encoders_q, self.heads_q, self.encoders_k, self.heads_k = (
            nn.ModuleDict({name: parts[i] for name, parts in built.items()}) for i in range(4))
        self.queues = nn.ModuleDict({name: FeatureQueue(config.queue_size, config.projection_dim)
                                     for name in names})
        self.jitter_joints = config.jitter_joints or jitter_count(layout.num_joints)

    @classmethod
    def from_config(cls, config: ISCConfig, *, layout: Layout, encoders: EncoderFactory
                    ) -> ISC:
        return cls(config, layout=layout, encoders=encoders)

    def augment(self, x: torch.Tensor, lengths: torch.Tensor,
                generator: torch.Generator | None) -> tuple[torch.Tensor, torch.Tensor]:
        """Crop-resize to ``frames``, then a pose shear or a joint jitter (per the switches)."""
        c = self.config
        view, view_lengths = crop_resize(x, lengths, c.frames, c.min_crop if c.crop_resize
                                         else 1.0, generator, c.min_crop_frames)
        return on_coordinates(lambda v: self.pose_change(v, generator), view,
                              self.layout), view_lengths

    def pose_change(self, x: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
        """A pose shear or a joint jitter of the coordinates (per the switches)."""
        c = self.config
        if c.pose and c.jitter:
            return pose_or_jitter(x, c.shear_beta, self.jitter_joints, generator)
        if c.pose:
            return shear(x, c.shear_beta, generator)
        if c.jitter:
            return joint_jitter(x, self.jitter_joints, generator)
        return x

    def queue(self, name: str) -> FeatureQueue:
        return cast(FeatureQueue, self.queues[name])

    def terms(self) -> list[tuple[str, ...]]:
        """The loss's terms: (r,) for MoCo within r, (r, s) for the cross-contrast of r and s."""
        names: list[str] = list(self.config.representations)
        within = [(name,) for name in names] if self.config.intra else []
        return within + (list(itertools.combinations(names, 2)) if self.config.inter else [])

    def training_step(self, batch: Batch, epoch: int,
                      generator: torch.Generator | None = None) -> dict[str, torch.Tensor]:
        view_q, lengths_q = self.augment(batch.x, batch.lengths, generator)
        view_k, lengths_k = self.augment(batch.x, batch.lengths, generator)
        queries, keys = {}, {}
        for name in self.encoders_q:
            queries[name] = F.normalize(
                self.heads_q[name](self.encoders_q[name](view_q, lengths_q)), dim=1)
            with torch.no_grad():
                momentum_update(self.encoders_k[name], self.encoders_q[name], self.config.momentum)
                momentum_update(self.heads_k[name], self.heads_q[name], self.config.momentum)
                keys[name] = F.normalize(
                    self.heads_k[name](self.encoders_k[name](view_k, lengths_k)), dim=1)
        out: dict[str, torch.Tensor] = {}
        total = torch.zeros((), device=batch.x.device)
        queues = {name: self.queue(name).keys.clone().detach() for name in keys}
        for term in self.terms():
            if len(term) == 1:
                (name,) = term
                loss = infonce(queries[name], keys[name], queues[name], self.config.temperature)
            else:
                a, b = term
                loss = cross_contrast(queries[a], keys[a], queues[a], queries[b], keys[b],
                                      queues[b], self.config.temperature)
            out[f"loss_{'_'.join(term)}"] = loss.detach()
            total = total + loss
        for name, key in keys.items():
            self.queue(name).push(key)
            out.update(collapse_metrics(queries[name], name))
        return {"loss": total, **out}

    def encoders(self) -> dict[str, StreamEncoder]:
        """Each representation's query encoder (evaluation sees the joints as given)."""
        return {name: StreamEncoder(encoder, "joint", self.layout)
                for name, encoder in self.encoders_q.items()}
