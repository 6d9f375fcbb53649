"""CRRL (Wang et al., IEEE TIP 2022): contrast-reconstruction representation learning.

One sequence encoder (a BiGRU on coordinates) and three switchable objectives:

    h = encoder.frames(x);  f = TAP(h)                        # per-frame outputs, their mean
    CML (contrast):     q = normalize(mlp_q(f))
                        k = normalize(mlp_k(encoder_k(positive(x))))   # velocity by default
                        L_c = InfoNCE(q, k, queue, τ); queue ← k
                        encoder_k ← m_enc·encoder_k + (1 − m_enc)·encoder
                        mlp_k ← m_mlp·mlp_k + (1 − m_mlp)·mlp_q       # m_mlp = 1: fixed at init
    SER (reconstruct):  forward: decoder(h[0] repeated T) ≈ x
                        reverse: decoder(h[L−1] repeated T) ≈ reverse(x)
                        L_r = Σ directions sequence_mse
    INF (teacher):      L_d = ‖mlp_d(f) − TAP(teacher.frames(x))‖²   # teacher frozen, eval mode
    loss = L_c + L_r + λ_d·L_d

Each objective is a config switch, and ``init`` / ``teacher`` name other runs, so the paper's
Table VIII variants are configs: CML, SER, CML-SER-joint (both losses), X-pretrain-Y (``init``),
X-distill-Y and CRRL (``teacher``); two-stage variants run as pipelines
(``skelssl pretrain configs/crrl/nw-ucla.yaml`` trains CML, then SER distilling it).
"""

from __future__ import annotations

import functools
import operator
from dataclasses import dataclass
from typing import ClassVar, Literal, cast

import torch
import torch.nn.functional as F
from torch import nn

from skelssl.errors import ConfigError
from skelssl.losses import distillation_loss, infonce, sequence_mse
from skelssl.methods.base import Batch, EncoderFactory, RunWeights
from skelssl.methods.collapse import collapse_metrics
from skelssl.methods.moco import FeatureQueue, momentum_copy, momentum_update
from skelssl.models.base import FrameEncoder, feature_dim_of
from skelssl.models.gru import GRUDecoder, flatten_frames, last_valid
from skelssl.models.heads import projection_head
from skelssl.models.stream_encoder import StreamEncoder
from skelssl.schema import AtLeastOne, DropRate, Fraction, NonNegative, Positive
from skelssl.skeleton import Layout
from skelssl.transforms.channels import on_coordinates
from skelssl.transforms.masks import temporal_average
from skelssl.transforms.normalize import minmax_normalize
from skelssl.transforms.spatial import gaussian_noise, rotate, shear
from skelssl.transforms.streams import velocity
from skelssl.transforms.temporal import reverse_valid

EVALUATED = "joint"  # the name of CRRL's one evaluated encoder (coordinates in)


@dataclass
class CRRLConfig:
    """Method section (defaults: the paper's CML stage)."""

    name: str = "crrl"
    contrast: bool = True  # CML: coordinates (query) vs the positive (key), MoCo
    reconstruct: Literal["none", "forward", "reverse", "both"] = "none"  # SER (Table X)
    positive: Literal["velocity", "noise", "shear", "rotation"] = "velocity"  # CML key (Table IX)
    velocity_minmax: bool = False  # scale the velocity to [-1, 1] per sample, person and axis
    queue_size: AtLeastOne = 64
    temperature: Positive = 0.1
    momentum_encoder: Fraction = 0.999  # m_enc
    momentum_mlp: Fraction = 1.0  # m_mlp; 1.0 keeps the key MLP at its initialisation
    mlp_dim: AtLeastOne = 512  # hidden and output width of the CML and distillation MLPs
    noise_std: NonNegative = 0.05  # positive = noise
    shear_beta: NonNegative = 0.5  # positive = shear
    rotation_degrees: NonNegative = 30.0  # positive = rotation
    decoder_layers: AtLeastOne = 2
    decoder_dropout: DropRate = 0.2
    teacher: str | None = None  # run directory whose encoder is distilled (INF)
    teacher_dropout: bool = False  # true: the teacher keeps its dropout on (released code)
    distill_weight: NonNegative = 0.1  # λ_d
    init: str | None = None  # run directory whose encoder initialises this one

    def __post_init__(self) -> None:
        """Settings the field types alone do not express."""
        if self.velocity_minmax and self.positive != "velocity":
            raise ConfigError(f"method.velocity_minmax scales the velocity positive; it does not "
                              f"apply to positive: {self.positive}")
        if not self.contrast and self.reconstruct == "none" and self.teacher is None:
            raise ConfigError("method: nothing to learn; set contrast: true, reconstruct, "
                              "or a teacher")


class CRRL(nn.Module):
    """CML and/or SER on one encoder, optionally distilling a frozen teacher encoder."""

    Config = CRRLConfig
    encoder_slots: ClassVar[dict[str, set[str]]] = {"encoder": {"frames"}}

    def __init__(self, config: CRRLConfig, *, layout: Layout, encoders: EncoderFactory) -> None:
        super().__init__()
        self.config = config
        self.layout = layout
        self.encoder = encoders("encoder")
        dim = feature_dim_of(self.encoder)
        if config.contrast:
            self.mlp_q = projection_head(dim, config.mlp_dim, config.mlp_dim)
            self.encoder_k = momentum_copy(self.encoder)
            self.mlp_k = momentum_copy(self.mlp_q)
            self.queue = FeatureQueue(config.queue_size, config.mlp_dim)
        if config.reconstruct != "none":
            self.decoder = GRUDecoder(dim, cast(FrameEncoder, self.encoder).input_size,
                                      config.decoder_layers, config.decoder_dropout)
        if config.teacher is not None:  # same architecture; weights from the teacher run
            self.teacher = momentum_copy(encoders("encoder"))
            self.mlp_d = projection_head(dim, config.mlp_dim,
                                         feature_dim_of(self.teacher))

    @classmethod
    def from_config(cls, config: CRRLConfig, *, layout: Layout,
                    encoders: EncoderFactory) -> CRRL:
        """A sequence encoder of the ``encoder`` section (and a second one as the teacher)."""
        return cls(config, layout=layout, encoders=encoders)

    def weights_from_runs(self) -> list[RunWeights]:
        """The ``init`` run's encoder into this one, the ``teacher`` run's into the teacher."""
        wanted = []
        if self.config.init is not None:
            wanted.append(RunWeights(self.config.init, EVALUATED, self.encoder))
        if self.config.teacher is not None:
            wanted.append(RunWeights(self.config.teacher, EVALUATED, self.teacher))
        return wanted

    def on_train_start(self) -> None:
        """The key encoder starts as a copy of an initialised encoder."""
        if self.config.init is not None and self.config.contrast:
            self.encoder_k.load_state_dict(self.encoder.state_dict())

    def train(self, mode: bool = True) -> CRRL:
        """As ``nn.Module.train``, but a teacher stays in eval mode (no dropout) unless
        ``teacher_dropout`` asks for the released code's behaviour."""
        super().train(mode)
        if self.config.teacher is not None:
            self.teacher.train(mode and self.config.teacher_dropout)
        return self

    def positive(self, x: torch.Tensor, lengths: torch.Tensor,
                 generator: torch.Generator | None) -> torch.Tensor:
        """The key encoder's input for CML (paper: velocity; Table IX: the alternatives),
        computed from the coordinates."""
        return on_coordinates(lambda v: self.positive_coordinates(v, lengths, generator), x,
                              self.layout)

    def positive_coordinates(self, x: torch.Tensor, lengths: torch.Tensor,
                             generator: torch.Generator | None) -> torch.Tensor:
        c = self.config
        if c.positive == "velocity":
            v = velocity(x, lengths)
            return minmax_normalize(v, lengths) if c.velocity_minmax else v
        if c.positive == "noise":
            return gaussian_noise(x, c.noise_std, generator)
        if c.positive == "shear":
            return shear(x, c.shear_beta, generator)
        return rotate(x, c.rotation_degrees, generator)

    def contrast(self, feature: torch.Tensor, x: torch.Tensor, lengths: torch.Tensor,
                 generator: torch.Generator | None) -> torch.Tensor:
        """CML's InfoNCE; the keys then enter the queue."""
        q = F.normalize(self.mlp_q(feature), dim=1)
        with torch.no_grad():
            momentum_update(self.encoder_k, self.encoder, self.config.momentum_encoder)
            momentum_update(self.mlp_k, self.mlp_q, self.config.momentum_mlp)
            k = F.normalize(self.mlp_k(self.encoder_k(self.positive(x, lengths, generator),
                                                      lengths)), dim=1)
        loss = infonce(q, k, self.queue.keys.clone().detach(), self.config.temperature)
        self.queue.push(k)
        return loss

    def reconstruct(self, frames: torch.Tensor, x: torch.Tensor, lengths: torch.Tensor
                    ) -> dict[str, torch.Tensor]:
        """SER: each direction's sequence from one encoder state repeated over time."""
        latents, targets = [], []
        if self.config.reconstruct in ("forward", "both"):
            latents.append(("forward", frames[:, 0]))
            targets.append(x)
        if self.config.reconstruct in ("reverse", "both"):
            latents.append(("reverse", last_valid(frames, lengths)))
            targets.append(reverse_valid(x, lengths))
        decoded = self.decoder(torch.cat([latent for _, latent in latents]), x.shape[2])
        return {f"reconstruct_{name}": sequence_mse(part, flatten_frames(target), lengths)
                for (name, _), part, target in zip(latents, decoded.chunk(len(latents)),
                                                   targets, strict=True)}

    def distill(self, feature: torch.Tensor, x: torch.Tensor, lengths: torch.Tensor
                ) -> torch.Tensor:
        """INF: regress the frozen teacher's averaged features from the student's."""
        with torch.no_grad():
            target = self.teacher(x, lengths)
        return distillation_loss(self.mlp_d(feature), target)

    def training_step(self, batch: Batch, epoch: int,
                      generator: torch.Generator | None = None) -> dict[str, torch.Tensor]:
        """One step on min-max scaled joints x[N, C, T, V, M] with valid lengths."""
        x, lengths = batch.x, batch.lengths
        frames = cast(FrameEncoder, self.encoder).frames(x, lengths)
        feature = temporal_average(frames, lengths)
        out: dict[str, torch.Tensor] = {}
        if self.config.contrast:
            out["contrast"] = self.contrast(feature, x, lengths, generator)
        if self.config.reconstruct != "none":
            out.update(self.reconstruct(frames, x, lengths))
        if self.config.teacher is not None:
            out["distill"] = self.distill(feature, x, lengths)
        terms = [value * (self.config.distill_weight if key == "distill" else 1.0)
                 for key, value in out.items()]
        return {**out, "loss": functools.reduce(operator.add, terms), **collapse_metrics(feature)}

    def encoders(self) -> dict[str, StreamEncoder]:
        """The trained (student) encoder on coordinates."""
        return {EVALUATED: StreamEncoder(self.encoder, "joint", self.layout)}

