"""AimCLR (Guo et al., AAAI 2022): SkeletonCLR plus an extreme view, an energy-based drop
branch, the D³M loss and nearest-neighbour mining.

    for each batch of joints x:
        q, k = query(normal(x)), key(normal(x))          # SkeletonCLR's shear + crop views
        maps = encoder_q.maps(extreme(x))                # + flip, rotate, noise, blur, axis mask
        e, ed = head(pool(maps)), head(pool(drop(maps)))  # the drop branch: salient joints/frames
        l = [q·k, q·queue], l_e = [e·k, e·queue], l_ed = [ed·k, ed·queue]
        loss = InfoNCE(l)                                # before mining_epoch
             | multi-positive InfoNCE(l, {k} ∪ top-1 of l, l_e, l_ed)   # from mining_epoch on
        loss += mean over e, ed of H(softmax(l)/τ detached, softmax(l_e)/τ)   # D³M
        queue ← k; θ_k ← m·θ_k + (1 − m)·θ_q

Ablation switches: ``extreme: false`` gives the third view SkeletonCLR's normal augmentation,
``drop: false`` removes the ed branch, ``d3m: false`` the D³M term, ``mining: false`` keeps
plain InfoNCE throughout.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar, cast

import torch
import torch.nn.functional as F

from skelssl.errors import ConfigError
from skelssl.losses import (
    distribution_divergence,
    infonce_of_logits,
    moco_logits,
    multi_positive_infonce,
)
from skelssl.methods.base import Batch
from skelssl.methods.collapse import collapse_metrics
from skelssl.methods.skeletonclr import SkeletonCLR, SkeletonCLRConfig, shear_and_crop
from skelssl.models.energy_drop import energy_drop
from skelssl.models.masking import MapEncoder
from skelssl.schema import AtLeastOne, DropRate, Fraction, NonNegative, NonNegativeInt, Positive
from skelssl.transforms.channels import on_coordinates
from skelssl.transforms.extreme import (
    axis_mask,
    main_axis_rotation,
    noise_sometimes,
    spatial_flip,
    temporal_blur,
)
from skelssl.transforms.streams import stream


@dataclass
class AimCLRConfig(SkeletonCLRConfig):
    """Method section of a config: SkeletonCLR's keys plus the extreme view, the drop branch,
    D³M and mining (defaults: the paper's NTU settings)."""

    name: str = "aimclr"
    extreme: bool = True  # the extreme augmentations on the third view (false: normal ones)
    drop: bool = True  # the energy-based drop branch on the third view's feature map
    d3m: bool = True  # the D³M loss between the normal query and the third view
    mining: bool = True  # nearest-neighbour mining from mining_epoch on
    mining_epoch: NonNegativeInt = 150  # 0-based epoch from which mining replaces InfoNCE
    topk: AtLeastOne = 1  # neighbours mined from each similarity row
    keep_prob: Positive = 0.7  # drop joints / frames whose mean attention reaches this
    flip_probability: Fraction = 0.5
    rotation_degrees: NonNegative = 30.0  # the main axis, U(0, this)
    rotation_other_degrees: NonNegative = 1.0  # the two other axes, U(0, this)
    noise_std: NonNegative = 0.01
    noise_probability: Fraction = 0.5
    blur_probability: Fraction = 0.5
    blur_size: AtLeastOne = 15  # temporal kernel size (odd)
    blur_sigma: list[float] = field(default_factory=lambda: [0.1, 2.0])  # σ ~ U(low, high)
    blur_normalise: bool = True  # false: the released code's unnormalised kernel
    mask_probability: DropRate = 0.5

    def __post_init__(self) -> None:
        """Settings the field types alone do not express."""
        if len(self.blur_sigma) != 2 or not 0 < self.blur_sigma[0] <= self.blur_sigma[1]:
            raise ConfigError(f"method.blur_sigma = {self.blur_sigma}: expected [low, high] "
                              "with 0 < low ≤ high")
        if self.blur_size % 2 == 0:
            raise ConfigError(f"method.blur_size = {self.blur_size}: expected an odd size")
        if self.topk > self.queue_size:
            raise ConfigError(f"method.topk = {self.topk}: expected at most the queue size "
                              f"({self.queue_size})")


def mined_positives(logits: list[torch.Tensor], topk: int) -> torch.Tensor:
    """0/1 mask (N, 1 + K) over [key, queue]: the key, and the top-``topk`` queue entries of
    each similarity row [l_pos, l_neg] in ``logits`` (nearest-neighbour mining)."""
    positives = torch.zeros_like(logits[0])
    positives[:, 0] = 1
    for rows in logits:
        positives[:, 1:].scatter_(1, rows[:, 1:].topk(topk, dim=1).indices, 1.0)
    return positives


class AimCLR(SkeletonCLR):
    """SkeletonCLR's encoders, heads and queue, trained with AimCLR's three views."""

    Config = AimCLRConfig
    encoder_slots: ClassVar[dict[str, set[str]]] = {"encoder": {"feature_maps"}}
    config: AimCLRConfig

    def third_view(self, x: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
        """The extreme view of joints x[N, C, T, V, M] (all T frames valid), in the stream."""
        c = self.config
        view = shear_and_crop(x, self.layout, c.shear_beta, c.padding_ratio, generator)
        if c.extreme:
            lengths = torch.full((x.shape[0],), x.shape[2], device=x.device)
            view = spatial_flip(view, self.layout.flip_index, c.flip_probability, generator)
            view = on_coordinates(lambda v: noise_sometimes(main_axis_rotation(
                v, c.rotation_degrees, c.rotation_other_degrees, generator), c.noise_std,
                c.noise_probability, generator), view, self.layout)
            view = temporal_blur(view, lengths, c.blur_probability, c.blur_size,
                                 (c.blur_sigma[0], c.blur_sigma[1]), c.blur_normalise, generator)
            view = on_coordinates(lambda v: axis_mask(v, c.mask_probability, generator), view,
                                  self.layout)
        return stream(view, c.stream, self.layout)

    def third_queries(self, view: torch.Tensor) -> list[torch.Tensor]:
        """Normalised queries of the third view: e, and ed (its dropped feature map)."""
        encoder = cast(MapEncoder, self.encoder_q)
        maps, mask = encoder.maps_and_mask(view)
        persons = view.shape[4]
        queries = [encoder.pool(maps, mask, persons)]
        if self.config.drop:
            queries.append(encoder.pool(energy_drop(maps, self.config.keep_prob), mask, persons))
        return [F.normalize(self.head_q(h), dim=1) for h in queries]

    def mining_active(self, epoch: int) -> bool:
        return self.config.mining and epoch >= self.config.mining_epoch

    def training_step(self, batch: Batch, epoch: int,
                      generator: torch.Generator | None = None) -> dict[str, torch.Tensor]:
        """One AimCLR step on a batch of joints x[N, C, T, V, M] (all T frames valid)."""
        c = self.config
        view_q, view_k = self.augment(batch.x, generator), self.augment(batch.x, generator)
        q = self.embed_query(view_q)
        k = self.embed_key(view_k)
        queue = self.queue.keys.clone().detach()
        logits = moco_logits(q, k, queue)
        third = ([moco_logits(e, k, queue) for e in self.third_queries(
            self.third_view(batch.x, generator))] if c.d3m or self.mining_active(epoch) else [])
        if self.mining_active(epoch):
            positives = mined_positives([logits, *third], c.topk)
            contrast = multi_positive_infonce(logits, positives, c.temperature)
        else:
            contrast = infonce_of_logits(logits, c.temperature)
        out = {"loss_contrast": contrast.detach(),
               "mining": torch.tensor(float(self.mining_active(epoch)))}
        loss = contrast
        if c.d3m:
            d3m = torch.stack([distribution_divergence(logits, rows, c.temperature)
                               for rows in third]).mean()
            loss = loss + d3m
            out["loss_d3m"] = d3m.detach()
        self.queue.push(k)
        return {"loss": loss, **out, **collapse_metrics(q)}
