"""ActCLR (Lin et al., CVPR 2023), stage 2 on an AimCLR run: actionlet-dependent contrast.

    both encoders (heads too with ``init_heads``) start from the AimCLR run's query network
    for each batch of joints x:
        weak_k, weak_p = normal(x), normal(x); medium, strong = extreme(x), stronger(x)
        x̄ = mean of the batch's weak view                            # the static anchor
        A(v) = actionlet of v against x̄, both in one key pass       # where v moves
        q1 = query(A·medium + (1 − A)·strong)                        # MATS, A = A(medium)
        q2 = query(A·adain(weak_p) + (1 − A)·mix(adain(weak_p)))     # MATS, A = A(weak_p)
        k = key head(SAFP(key maps of weak_k, A(weak_k)))            # offline, actionlet-pooled
        loss = Σ_q KL(softmax(k·M / τ_k) ‖ softmax(q·M / τ_q))       # similarity mining, eq. 9
        M ← k (the memory bank); θ_k ← m·θ_k + (1 − m)·θ_q

A curriculum lowers the number of active augmentations of the medium (5) and strong (7) views
over the epochs. docs/methods/actclr.md lists every switch and the released code's variants.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import ClassVar, Literal, cast

import torch
import torch.nn.functional as F
from torch import nn

from skelssl.errors import ConfigError
from skelssl.losses import similarities, similarity_mining_loss
from skelssl.methods.base import Batch, EncoderFactory, RunModule, RunWeights
from skelssl.methods.collapse import collapse_metrics
from skelssl.methods.moco import FeatureQueue, momentum_update, query_and_key
from skelssl.methods.skeletonclr import shear_and_crop
from skelssl.models.actionlet import (
    actionlet_map,
    actionlet_pool,
    channel_weights,
    joint_smoothing,
    upsample,
)
from skelssl.models.masking import FrameMask, MapEncoder
from skelssl.models.stream_encoder import StreamEncoder
from skelssl.schema import AtLeastOne, Fraction, NonNegative, Positive
from skelssl.skeleton import Layout
from skelssl.transforms import extreme, mixing
from skelssl.transforms.channels import on_coordinates
from skelssl.transforms.streams import Stream, stream


@dataclass
class ActCLRConfig:
    """Method section of a config (defaults: the paper's settings)."""

    name: str = "actclr"
    stream: Stream = "joint"
    init: str | None = None  # the AimCLR run whose query encoder both encoders start from
    init_heads: bool = False  # its query head into both heads too (as the released code)
    queue_size: AtLeastOne = 65536  # the memory bank M
    projection_dim: AtLeastOne = 128
    momentum: Fraction = 0.999
    student_temperature: Positive = 0.1  # τ_q
    teacher_temperature: Positive = 0.04  # τ_k
    teacher_cutoff: float | None = None  # released code: 0.95 (bank entries above: −1)
    teacher_topk: AtLeastOne | None = None  # released code: 8192 of the bank kept
    square_student: bool = False  # released code: the student's similarities squared
    mixed_key: bool = False  # released code: a third query, the weak view mixed, against the
    # key mixed in proportion to the actionlet each sequence keeps
    shear_beta: NonNegative = 0.5
    padding_ratio: AtLeastOne = 6
    anchor: Literal["batch", "dataset"] = "batch"  # the static anchor's average motion
    # the anchor encoded in the view's pass (BatchNorm: the batch's statistics) | alone
    anchor_context: Literal["batch", "alone"] = "batch"
    actionlet_features: Literal["difference", "dense"] = "difference"  # h − h̄ | h (eq. 4)
    actionlet_smoothing: Literal["adjacency", "parts"] = "adjacency"  # eq. 5 | released code
    actionlet_scaling: Literal["max", "binary"] = "max"  # A / max | released 0/1
    actionlet_cosine: Literal["channel", "singleton"] = "channel"  # singleton: released bug
    mats: bool = True  # actionlet-dependent mixing of the views (false: whole sequences)
    offline_pooling: Literal["safp", "mix", "global"] = "safp"  # eq. 8 | ½ + ½ | plain mean
    online_pooling: Literal["global", "safp"] = "global"  # Table 9: SAFP on the query side
    curriculum: list[int] = field(default_factory=lambda: [100, 200, 300])
    flip_probability: Fraction = 0.5
    # the paper's list of actionlet transforms names a temporal flip; the released code's
    # views (5 and 7 augmentations) have none: 0 leaves it out, > 0 adds it to both views
    temporal_flip_probability: Fraction = 0.0
    rotation_degrees: NonNegative = 30.0
    rotation_other_degrees: NonNegative = 1.0
    noise_std: NonNegative = 0.01  # medium view
    strong_noise_std: NonNegative = 0.05  # strong view
    noise_probability: Fraction = 0.5
    blur_probability: Fraction = 0.5
    mask_probability: Fraction = 0.5
    speed_probability: Fraction = 0.5
    speed_range: list[float] = field(default_factory=lambda: [0.5, 1.5])
    bone_scale: NonNegative = 0.5  # strong view: each bone × U(0, bone_scale)
    mix_parts: list[int] = field(default_factory=lambda: [2, 3])  # body parts pasted
    mix_frames: list[int] = field(default_factory=lambda: [15, 35])  # frames pasted

    def __post_init__(self) -> None:
        """Settings the field types alone do not express."""
        if len(self.curriculum) != 3 or sorted(self.curriculum) != self.curriculum:
            raise ConfigError(f"method.curriculum = {self.curriculum}: expected three "
                              "increasing epochs")
        for key in ("speed_range", "mix_parts", "mix_frames"):
            low_high = getattr(self, key)
            if len(low_high) != 2 or not 0 < low_high[0] <= low_high[1]:
                raise ConfigError(f"method.{key} = {low_high}: expected [low, high] with "
                                  "0 < low ≤ high")
        if self.init_heads and self.init is None:
            raise ConfigError("method.init_heads = true: expected method.init (the AimCLR run "
                              "whose head both heads start from)")
        if self.teacher_topk is not None and self.teacher_topk > self.queue_size:
            raise ConfigError(f"method.teacher_topk = {self.teacher_topk}: expected at most "
                              f"the queue size ({self.queue_size})")


def active_augmentations(epoch: int, curriculum: list[int], total: int) -> int:
    """How many of a view's ``total`` augmentations are active: all before the first
    curriculum epoch, then two fewer, then four fewer, then none (the medium view's 5: 5, 3,
    1, 0; the strong view's 7: 7, 5, 3, 0)."""
    stage = sum(epoch >= boundary for boundary in curriculum)
    return 0 if stage == len(curriculum) else max(total - 2 * stage, 0)


class ActCLR(nn.Module):
    """Query and momentum key encoders with heads, a memory bank and the actionlet machinery."""

    Config = ActCLRConfig
    encoder_slots: ClassVar[dict[str, set[str]]] = {"encoder": {"feature_maps"}}
    smoothing: torch.Tensor
    motion_sum: torch.Tensor
    motion_count: torch.Tensor
    dataset_motion: torch.Tensor

    def __init__(self, config: ActCLRConfig, *, layout: Layout,
                 encoders: EncoderFactory) -> None:
        super().__init__()
        self.config = config
        self.layout = layout
        self.encoder_q, self.head_q, self.encoder_k, self.head_k = query_and_key(
            encoders("encoder"), config.projection_dim)
        self.queue = FeatureQueue(config.queue_size, config.projection_dim)
        self.register_buffer("smoothing", joint_smoothing(layout, config.actionlet_smoothing))
        self.register_buffer("motion_sum", torch.zeros(0))  # dataset anchor: this epoch's sum
        self.register_buffer("motion_count", torch.zeros(()))
        self.register_buffer("dataset_motion", torch.zeros(0))  # the last full epoch's mean

    @classmethod
    def from_config(cls, config: ActCLRConfig, *, layout: Layout,
                    encoders: EncoderFactory) -> ActCLR:
        return cls(config, layout=layout, encoders=encoders)

    def weights_from_runs(self) -> list[RunWeights | RunModule]:
        """The stage-1 run's query encoder (its encoder for this stream) into the query, and
        with ``init_heads`` its query head into the query head."""
        if self.config.init is None:
            return []
        wanted: list[RunWeights | RunModule] = [
            RunWeights(self.config.init, self.config.stream, self.encoder_q)]
        if self.config.init_heads:
            wanted.append(RunModule(self.config.init, "head_q", self.head_q))
        return wanted

    def on_train_start(self) -> None:
        """Both encoders (and heads) start from the query's."""
        self.encoder_k.load_state_dict(self.encoder_q.state_dict())
        self.head_k.load_state_dict(self.head_q.state_dict())

    def on_epoch_start(self, epoch: int) -> None:
        """The dataset anchor moves to the mean motion of the epoch just seen."""
        if self.config.anchor == "dataset" and float(self.motion_count) > 0:
            self.dataset_motion = self.motion_sum / self.motion_count
            self.motion_sum = torch.zeros_like(self.motion_sum)
            self.motion_count = torch.zeros_like(self.motion_count)

    # --- views -----------------------------------------------------------------------------

    def normal(self, x: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
        return shear_and_crop(x, self.layout, self.config.shear_beta, self.config.padding_ratio,
                              generator)

    def augmentations(self, strong: bool, lengths: torch.Tensor,
                      generator: torch.Generator | None
                      ) -> list[Callable[[torch.Tensor], torch.Tensor]]:
        """The medium view's augmentations (AimCLR's extreme ones), or the strong view's (those
        with stronger noise, speed and bone length), each applied with its own probability."""
        c = self.config

        def geometric(step: Callable[[torch.Tensor], torch.Tensor]
                      ) -> Callable[[torch.Tensor], torch.Tensor]:
            return lambda v: on_coordinates(step, v, self.layout)

        steps = [
            lambda v: extreme.spatial_flip(v, self.layout.flip_index, c.flip_probability,
                                           generator),
            geometric(lambda v: extreme.main_axis_rotation(v, c.rotation_degrees,
                                                           c.rotation_other_degrees, generator)),
            geometric(lambda v: extreme.noise_sometimes(
                v, c.strong_noise_std if strong else c.noise_std, c.noise_probability,
                generator)),
            lambda v: extreme.temporal_blur(v, lengths, c.blur_probability,
                                            generator=generator),
            geometric(lambda v: extreme.axis_mask(v, c.mask_probability, generator))]
        if c.temporal_flip_probability > 0:
            steps.append(lambda v: extreme.time_flip(v, c.temporal_flip_probability,
                                                     generator))
        if strong:
            steps += [
                lambda v: extreme.speed_resample(v, c.speed_probability,
                                                 (c.speed_range[0], c.speed_range[1]), generator),
                geometric(lambda v: extreme.bone_rescale(v, list(self.layout.parents),
                                                         c.bone_scale, generator))]
        return steps

    def augmented(self, x: torch.Tensor, strong: bool, epoch: int,
                  generator: torch.Generator | None) -> torch.Tensor:
        """The medium or strong view, with the curriculum's number of its augmentations active
        per sample (a random subset of them)."""
        view = self.normal(x, generator)
        lengths = torch.full((x.shape[0],), x.shape[2], device=x.device)
        steps = self.augmentations(strong, lengths, generator)
        count = active_augmentations(epoch, self.config.curriculum, len(steps))
        rank = torch.rand(x.shape[0], len(steps), generator=generator,
                          device=x.device).argsort(dim=1).argsort(dim=1)
        for index, step in enumerate(steps):
            active = (rank[:, index] < count).view(-1, 1, 1, 1, 1)
            view = torch.where(active, step(view), view)
        return view

    def mixed(self, x: torch.Tensor, generator: torch.Generator | None
              ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Skeleton Mix with a partner: CutMix (p ½), ResizeMix (¼) or Mixup (¼) per batch.
        Returns the mix, the partners and the partner's share of each position (N, T, V)."""
        c = self.config
        n, _, t, v, _ = x.shape
        partner = mixing.partner_index(n, generator, x.device)
        choice = float(torch.rand((), generator=generator, device=x.device))
        if choice < 0.25:
            mix, lam = mixing.mixup(x, partner, generator)
            return mix, partner, lam.view(n, 1, 1).expand(n, t, v)
        mask = mixing.region_mask(x, list(self.layout.parts.values()),
                                  (c.mix_parts[0], c.mix_parts[1]),
                                  (c.mix_frames[0], c.mix_frames[1]), generator)
        paste = mixing.resizemix if choice < 0.5 else mixing.cutmix
        return paste(x, partner, mask), partner, mask

    def mixed_key(self, k: torch.Tensor, actionlet: torch.Tensor, partner: torch.Tensor,
                  share: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
        """The released code's key of a mixed sequence: k and the partner's key, weighted by
        how much of each one's actionlet (weights exp(A / 0.1)) the mix keeps."""
        weight = (self.at_input(actionlet, like)[:, 0] / 0.1).exp().mean(dim=-1)  # (N, T, V)
        own = (weight * (1 - share)).sum(dim=(1, 2)) / weight.sum(dim=(1, 2))
        pasted = (weight[partner] * share).sum(dim=(1, 2)) / weight[partner].sum(dim=(1, 2))
        total = own + pasted
        mixed = k * (own / total)[:, None] + k[partner] * (pasted / total)[:, None]
        return F.normalize(mixed, dim=1)

    # --- actionlets ------------------------------------------------------------------------

    def anchor_motion(self, weak: torch.Tensor) -> torch.Tensor:
        """The average motion (1, C, T, V, M): the batch's, or the last epoch's (dataset)."""
        batch_mean = weak.mean(dim=0, keepdim=True)
        if self.config.anchor == "batch":
            return batch_mean
        total = weak.detach().sum(dim=0, keepdim=True)
        self.motion_sum = total if self.motion_sum.numel() == 0 else self.motion_sum + total
        self.motion_count = self.motion_count + weak.shape[0]
        return self.dataset_motion if self.dataset_motion.numel() else batch_mean

    def _load_from_state_dict(self, state_dict: dict, prefix: str, *args, **kwargs) -> None:
        """The anchor buffers take the shape of the data: resize them before loading."""
        for name in ("motion_sum", "dataset_motion"):
            if prefix + name in state_dict:
                setattr(self, name, torch.empty_like(state_dict[prefix + name]))
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    def key_maps(self, view: torch.Tensor) -> tuple[torch.Tensor, FrameMask]:
        """The key encoder's last feature maps of a view (in the stream) and their mask."""
        return cast(MapEncoder, self.encoder_k).maps_and_mask(stream(view, self.config.stream,
                                                                     self.layout))

    def key_pass(self, view: torch.Tensor, anchor: torch.Tensor
                 ) -> tuple[tuple[torch.Tensor, FrameMask], tuple[torch.Tensor, FrameMask]]:
        """The key maps and masks of a view and of the anchor motion (1, C, T, V, M).
        ``anchor_context: batch`` encodes both in one pass, so that BatchNorm in training
        normalises the anchor with the view batch's statistics; ``alone`` gives the anchor a
        pass of its own, normalised by its own statistics: its features are then scaled up to
        those of a moving sequence, and h − h̄ mixes two normalisations (docs/methods/actclr.md)."""
        if self.config.anchor_context == "alone":
            return self.key_maps(view), self.key_maps(anchor)
        rows = view.shape[0] * view.shape[4]
        maps, mask = self.key_maps(torch.cat([view, anchor]))
        return (maps[:rows], mask.rows(0, rows)), (maps[rows:], mask.rows(rows))

    def actionlets(self, view: torch.Tensor, anchor: torch.Tensor) -> torch.Tensor:
        """A (N·M, T', V') of a view against the anchor motion, by the key encoder."""
        return self.actionlets_and_maps(view, anchor)[0]

    def actionlets_and_maps(self, view: torch.Tensor, anchor: torch.Tensor
                            ) -> tuple[torch.Tensor, tuple[torch.Tensor, FrameMask]]:
        """A (N·M, T', V') of a view against the anchor motion, by the key encoder, and the
        view's key maps and mask it came from."""
        with torch.no_grad():
            view_maps, anchor_maps = self.key_pass(view, anchor)
        return self.actionlet_of(view_maps, anchor_maps, view.shape[4]), view_maps

    def actionlet_of(self, view_maps: tuple[torch.Tensor, FrameMask],
                     anchor_maps: tuple[torch.Tensor, FrameMask], persons: int) -> torch.Tensor:
        """A (N·M, T', V') from a view's key maps and mask and the anchor's (``key_pass``)."""
        c = self.config
        encoder = cast(MapEncoder, self.encoder_k)
        (maps, mask), (anchor, anchor_mask) = view_maps, anchor_maps
        with torch.no_grad():
            anchor_z = self.head_k(encoder.pool(anchor, anchor_mask, persons))[0]

        def embed(dense: torch.Tensor) -> torch.Tensor:
            return self.head_k(encoder.pool(dense, mask, persons))

        weights = channel_weights(maps, embed, anchor_z, singleton=c.actionlet_cosine ==
                                  "singleton")
        features = maps
        if c.actionlet_features == "difference":
            features = maps - anchor.repeat(maps.shape[0] // anchor.shape[0], 1, 1, 1)
        return actionlet_map(features, weights, self.smoothing, c.actionlet_scaling)

    def at_input(self, actionlet: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
        """A (N·M, T', V') as weights (N, 1, T, V, M) for sequences like ``like``."""
        n, _, t, v, m = like.shape
        full = upsample(actionlet, t, v).view(n, m, t, v)
        return full.permute(0, 2, 3, 1).unsqueeze(1).to(like.dtype)

    # --- training --------------------------------------------------------------------------

    def embed_query(self, view: torch.Tensor, actionlet: torch.Tensor | None) -> torch.Tensor:
        encoder = cast(MapEncoder, self.encoder_q)
        maps, mask = encoder.maps_and_mask(stream(view, self.config.stream, self.layout))
        if self.config.online_pooling == "safp" and actionlet is not None:
            features = actionlet_pool(maps, actionlet).view(view.shape[0], view.shape[4], -1)
            return F.normalize(self.head_q(features.mean(dim=1)), dim=1)
        return F.normalize(self.head_q(encoder.pool(maps, mask, view.shape[4])), dim=1)

    @torch.no_grad()
    def embed_key(self, view_maps: tuple[torch.Tensor, FrameMask], actionlet: torch.Tensor,
                  persons: int) -> torch.Tensor:
        """The key of a view from its key maps and mask (the maps its actionlet came from)."""
        encoder = cast(MapEncoder, self.encoder_k)
        maps, mask = view_maps
        batch = maps.shape[0] // persons
        pooled = actionlet_pool(maps, actionlet).view(batch, persons, -1).mean(dim=1)
        plain = encoder.pool(maps, mask, persons)
        pooling = self.config.offline_pooling
        if pooling == "global":
            return F.normalize(self.head_k(plain), dim=1)
        if pooling == "safp":
            return F.normalize(self.head_k(pooled), dim=1)
        return F.normalize(0.5 * self.head_k(plain) + 0.5 * self.head_k(pooled), dim=1)

    def mining(self, q: torch.Tensor, k: torch.Tensor, bank: torch.Tensor) -> torch.Tensor:
        """Similarity mining between a query and the key over the memory bank (eq. 9)."""
        c = self.config
        student, teacher = similarities(q, bank), similarities(k, bank)
        if c.square_student:
            student = student ** 2
        if c.teacher_cutoff is not None:
            teacher = teacher.masked_fill(teacher > c.teacher_cutoff, -1.0)
        if c.teacher_topk is not None:
            teacher, index = teacher.topk(c.teacher_topk, dim=1)
            student = student.gather(1, index)
        return similarity_mining_loss(student, teacher, c.student_temperature,
                                      c.teacher_temperature)

    def training_step(self, batch: Batch, epoch: int,
                      generator: torch.Generator | None = None) -> dict[str, torch.Tensor]:
        """One ActCLR step on a batch of joints x[N, C, T, V, M] (all T frames valid)."""
        x = batch.x
        weak_k, weak_p = self.normal(x, generator), self.normal(x, generator)
        medium = self.augmented(x, False, epoch, generator)
        strong = self.augmented(x, True, epoch, generator)
        momentum_update(self.encoder_k, self.encoder_q, self.config.momentum)
        momentum_update(self.head_k, self.head_q, self.config.momentum)
        anchor = self.anchor_motion(weak_k)
        # one key-encoder pass gives the key's actionlet and the key
        actionlet_k, key_maps = self.actionlets_and_maps(weak_k, anchor)
        k = self.embed_key(key_maps, actionlet_k, weak_k.shape[4])
        style_partner = mixing.partner_index(x.shape[0], generator, x.device)
        styled = on_coordinates(lambda v: mixing.skeleton_adain(v, style_partner), weak_p,
                                self.layout)
        mixed, partner, share = self.mixed(styled, generator)
        views = []
        for kept, replaced in ((medium, strong), (styled, mixed)):
            actionlet = self.actionlets(kept, anchor)
            if self.config.mats:
                weight = self.at_input(actionlet, kept)
                views.append((weight * kept + (1 - weight) * replaced, actionlet))
            else:
                views.append((replaced, actionlet))
        bank = self.queue.keys.clone().detach()
        targets = [k, k]
        if self.config.mixed_key:
            mix, partner, share = self.mixed(weak_p, generator)
            actionlet_p = self.actionlets(weak_p, anchor)
            views.append((mix, actionlet_p))
            targets.append(self.mixed_key(k, actionlet_p, partner, share, weak_p))
        out: dict[str, torch.Tensor] = {}
        loss = torch.zeros((), device=x.device)
        for index, ((view, actionlet), target) in enumerate(zip(views, targets, strict=True), 1):
            q = self.embed_query(view, actionlet)
            term = self.mining(q, target, bank)
            out[f"loss_view{index}"] = term.detach()
            loss = loss + term
            if index == 1:
                out.update(collapse_metrics(q))
        self.queue.push(k)
        out["actionlet_mean"] = actionlet_k.mean().detach()
        lengths = torch.full((x.shape[0],), x.shape[2], device=x.device)
        out["augmentations"] = torch.tensor(float(sum(
            active_augmentations(epoch, self.config.curriculum,
                                 len(self.augmentations(strong, lengths, generator)))
            for strong in (False, True))))
        return {"loss": loss, **out}

    def encoders(self) -> dict[str, StreamEncoder]:
        """The query encoder, fed with this method's stream."""
        return {self.config.stream: StreamEncoder(self.encoder_q, self.config.stream,
                                                  self.layout)}
