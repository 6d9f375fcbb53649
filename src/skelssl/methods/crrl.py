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

from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from skelssl.data.loader import Batch
from skelssl.engine.checkpoint import load_run_encoder
from skelssl.losses import distillation_loss, infonce, sequence_mse
from skelssl.methods.moco import FeatureQueue, momentum_copy, momentum_update
from skelssl.models.gru import GRUDecoder, flatten_frames, last_valid
from skelssl.models.heads import projection_head
from skelssl.models.stream_encoder import StreamEncoder
from skelssl.skeleton import Layout
from skelssl.transforms.masks import temporal_average
from skelssl.transforms.normalize import minmax_normalize
from skelssl.transforms.spatial import gaussian_noise, rotate, shear
from skelssl.transforms.streams import velocity
from skelssl.transforms.temporal import reverse_valid

RECONSTRUCT = ("none", "forward", "reverse", "both")
POSITIVES = ("velocity", "noise", "shear", "rotation")


@dataclass
class CRRLConfig:
    """Method section (defaults: the paper's CML stage)."""

    name: str = "crrl"
    contrast: bool = True  # CML: coordinates (query) vs the positive (key), MoCo
    reconstruct: str = "none"  # SER: none | forward | reverse | both (Table X)
    positive: str = "velocity"  # CML's key input: velocity | noise | shear | rotation (Table IX)
    velocity_minmax: bool = False  # scale the velocity to [-1, 1] per sample, person and axis
    queue_size: int = 64
    temperature: float = 0.1
    momentum_encoder: float = 0.999  # m_enc
    momentum_mlp: float = 1.0  # m_mlp; 1.0 keeps the key MLP at its initialisation
    mlp_dim: int = 512  # hidden and output width of the CML and distillation MLPs
    noise_std: float = 0.05  # positive = noise
    shear_beta: float = 0.5  # positive = shear
    rotation_degrees: float = 30.0  # positive = rotation
    decoder_layers: int = 2
    decoder_dropout: float = 0.2
    teacher: str | None = None  # run directory whose encoder is distilled (INF)
    teacher_dropout: bool = False  # true: the teacher keeps its dropout on (released code)
    distill_weight: float = 0.1  # λ_d
    init: str | None = None  # run directory whose encoder initialises this one


class CRRL(nn.Module):
    """CML and/or SER on one encoder, optionally distilling a frozen teacher encoder."""

    Config = CRRLConfig

    def __init__(self, config: CRRLConfig, layout: Layout,
                 make_encoder: Callable[[int], nn.Module]) -> None:
        super().__init__()
        _check(config)
        self.config = config
        self.layout = layout
        self.encoder = make_encoder(3)
        if not hasattr(self.encoder, "frames"):
            from skelssl.config import ConfigError

            raise ConfigError("method crrl needs a sequence encoder with per-frame outputs "
                              "(encoder.name: bigru)")
        dim = self.encoder.feature_dim
        if config.contrast:
            self.mlp_q = projection_head(dim, config.mlp_dim, config.mlp_dim)
            self.encoder_k = momentum_copy(self.encoder)
            self.mlp_k = momentum_copy(self.mlp_q)
            self.queue = FeatureQueue(config.queue_size, config.mlp_dim)
        if config.reconstruct != "none":
            self.decoder = GRUDecoder(dim, self.encoder.input_size, config.decoder_layers,
                                      config.decoder_dropout)
        if config.teacher is not None:
            self.teacher = momentum_copy(make_encoder(3))
            self.mlp_d = projection_head(dim, config.mlp_dim, self.teacher.feature_dim)

    @classmethod
    def from_config(cls, config: CRRLConfig, layout: Layout,
                    make_encoder: Callable[[int], nn.Module]) -> CRRL:
        """Build from a config; ``make_encoder(in_channels)`` gives a fresh sequence encoder."""
        return cls(config, layout, make_encoder)

    def on_train_start(self) -> None:
        """Load the ``init`` encoder (and its key copy) and the ``teacher`` before epoch 1."""
        if self.config.init is not None:
            load_run_encoder(self.config.init, self.encoder)
            if self.config.contrast:
                self.encoder_k.load_state_dict(self.encoder.state_dict())
        if self.config.teacher is not None:
            load_run_encoder(self.config.teacher, self.teacher)

    def train(self, mode: bool = True) -> CRRL:
        """As ``nn.Module.train``, but a teacher stays in eval mode (no dropout) unless
        ``teacher_dropout`` asks for the released code's behaviour."""
        super().train(mode)
        if self.config.teacher is not None:
            self.teacher.train(mode and self.config.teacher_dropout)
        return self

    def positive(self, x: torch.Tensor, lengths: torch.Tensor,
                 generator: torch.Generator | None) -> torch.Tensor:
        """The key encoder's input for CML (paper: velocity; Table IX: the alternatives)."""
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
        frames = self.encoder.frames(x, lengths)
        feature = temporal_average(frames, lengths)
        out: dict[str, torch.Tensor] = {}
        if self.config.contrast:
            out["contrast"] = self.contrast(feature, x, lengths, generator)
        if self.config.reconstruct != "none":
            out.update(self.reconstruct(frames, x, lengths))
        if self.config.teacher is not None:
            out["distill"] = self.distill(feature, x, lengths)
        out["loss"] = sum(value * (self.config.distill_weight if key == "distill" else 1.0)
                          for key, value in out.items())
        return out

    def encoders(self) -> dict[str, nn.Module]:
        """The trained (student) encoder on coordinates."""
        return {"joint": StreamEncoder(self.encoder, "joint", self.layout)}


def _check(config: CRRLConfig) -> None:
    from skelssl.config import ConfigError

    if config.reconstruct not in RECONSTRUCT:
        raise ConfigError(f"method.reconstruct = {config.reconstruct!r}; expected one of "
                          f"{RECONSTRUCT}")
    if config.positive not in POSITIVES:
        raise ConfigError(f"method.positive = {config.positive!r}; expected one of {POSITIVES}")
    if config.velocity_minmax and config.positive != "velocity":
        raise ConfigError(f"method.velocity_minmax scales the velocity positive; it does not "
                          f"apply to positive: {config.positive}")
    if not config.contrast and config.reconstruct == "none" and config.teacher is None:
        raise ConfigError("method: nothing to learn; set contrast: true, reconstruct, "
                          "or a teacher")
