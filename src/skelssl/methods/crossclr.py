"""CrosSCLR (Li et al., CVPR 2021): SkeletonCLR per stream, then cross-view knowledge mining.

    for each batch of joints x:
        view_q, view_k = shear_and_crop(x), shear_and_crop(x)     # shared by every stream
        for each stream u (joint, motion, bone):                  # one SkeletonCLR per stream
            q_u, k_u = query/key embeddings of stream u of view_q/view_k
            l_pos_u, l_neg_u = q_u·k_u, q_u·queue_u
        before the mining epoch:  loss = Σ_u InfoNCE_u                      (SkeletonCLR)
        from it on (cross):       loss = Σ_u mean_{v≠u} KM(l_pos_u, l_neg_u, guide = l_neg_v)
                                  (top-K of the partner's similarities are extra positives;
                                   embedding context l_neg_u ⊙ l_neg_v joins the logits)
        (single):                 loss = Σ_u KM(l_pos_u, l_neg_u, guide = l_neg_u), no context
        every queue_u ← k_u; every key encoder follows its query encoder by momentum

All queues are pushed together, so entry i of every queue comes from the same sample: that is
what lets one view's neighbours become another view's positives.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import ClassVar, Literal

import torch
from torch import nn

from skelssl.errors import ConfigError
from skelssl.losses import infonce_of_logits, knowledge_mining_loss, moco_logits
from skelssl.methods.base import Batch, EncoderFactory
from skelssl.methods.collapse import collapse_metrics
from skelssl.methods.skeletonclr import SkeletonCLR, SkeletonCLRConfig, shear_and_crop
from skelssl.models.stream_encoder import StreamEncoder
from skelssl.schema import AtLeastOne, Fraction, NonNegative, NonNegativeInt, Positive
from skelssl.skeleton import Layout
from skelssl.transforms.streams import Stream, stream


@dataclass
class CrosSCLRConfig:
    """Method section of a config (defaults: the paper's NTU settings)."""

    name: str = "crossclr"
    streams: list[Stream] = field(default_factory=lambda: ["joint", "motion", "bone"])
    queue_size: AtLeastOne = 32768
    projection_dim: AtLeastOne = 128
    temperature: Positive = 0.07
    momentum: Fraction = 0.999
    shear_beta: NonNegative = 0.5
    padding_ratio: AtLeastOne = 6
    head_norm: bool = False  # BatchNorm in the projection heads (not in the paper)
    # cross (CVC-KM) | single (each view mines its own) | none (independent SkeletonCLRs)
    mining: Literal["cross", "single", "none"] = "cross"
    mining_epoch: NonNegativeInt = 150  # 0-based epoch from which mining replaces InfoNCE
    topk: NonNegativeInt = 1  # mined positives per sample
    context: bool = True  # add the embedding-context block l_neg_u ⊙ l_neg_v (cross only)

    def __post_init__(self) -> None:
        """Settings the field types alone do not express."""
        if not self.streams or len(set(self.streams)) != len(self.streams):
            raise ConfigError(f"method.streams = {self.streams}: expected distinct stream names")
        if self.mining == "cross" and len(self.streams) < 2:
            raise ConfigError("method.mining = 'cross' needs at least two streams")
        if not 0 <= self.topk <= self.queue_size:
            raise ConfigError(f"method.topk = {self.topk}: expected 0..{self.queue_size} "
                              "(the queue size)")


class CrosSCLR(nn.Module):
    """One SkeletonCLR branch per stream, trained jointly; mining couples them."""

    Config = CrosSCLRConfig
    encoder_slots: ClassVar[dict[str, set[str]]] = {"encoder": set()}

    def __init__(self, config: CrosSCLRConfig, *, layout: Layout,
                 encoders: EncoderFactory) -> None:
        """One SkeletonCLR per stream, each with a fresh encoder of the ``encoder`` section."""
        super().__init__()
        self.config = config
        self.layout = layout
        shared = {f.name: getattr(config, f.name) for f in dataclasses.fields(SkeletonCLRConfig)
                  if f.name not in ("name", "stream")}
        self.branches = nn.ModuleDict({
            name: SkeletonCLR(SkeletonCLRConfig(stream=name, **shared), layout=layout,
                              encoders=encoders)
            for name in config.streams})

    @classmethod
    def from_config(cls, config: CrosSCLRConfig, *, layout: Layout,
                    encoders: EncoderFactory) -> CrosSCLR:
        return cls(config, layout=layout, encoders=encoders)

    def mining_active(self, epoch: int) -> bool:
        """Whether ``epoch`` (0-based) trains with knowledge mining rather than InfoNCE."""
        return self.config.mining != "none" and epoch >= self.config.mining_epoch

    def training_step(self, batch: Batch, epoch: int,
                      generator: torch.Generator | None = None) -> dict[str, torch.Tensor]:
        """One step on joints x[N, C, T, V, M] (all T frames valid)."""
        c = self.config
        view_q = shear_and_crop(batch.x, self.layout, c.shear_beta, c.padding_ratio, generator)
        view_k = shear_and_crop(batch.x, self.layout, c.shear_beta, c.padding_ratio, generator)
        logits, keys, spreads = {}, {}, {}
        for name, branch in self._branches().items():
            q = branch.embed_query(stream(view_q, name, self.layout))
            spreads.update(collapse_metrics(q, name))
            keys[name] = branch.embed_key(stream(view_k, name, self.layout))
            logits[name] = moco_logits(q, keys[name], branch.queue.keys.clone().detach())
        mining = self.mining_active(epoch)
        losses = {name: self.stream_loss(name, logits, mining) for name in self.branches}
        for name, branch in self._branches().items():
            branch.queue.push(keys[name])
        out = {f"loss_{name}": loss for name, loss in losses.items()}
        out["loss"] = torch.stack(list(losses.values())).sum()
        out["mining"] = torch.tensor(float(mining), device=out["loss"].device)
        return {**out, **spreads}

    def stream_loss(self, name: str, logits: dict[str, torch.Tensor], mining: bool
                    ) -> torch.Tensor:
        """InfoNCE, or the mean knowledge-mining loss of stream ``name`` over its guides."""
        c = self.config
        own = logits[name]
        if not mining:
            return infonce_of_logits(own, c.temperature)
        if c.mining == "single":
            guides, context = [own[:, 1:]], False
        else:
            guides = [other[:, 1:] for partner, other in logits.items() if partner != name]
            context = c.context
        return torch.stack([
            knowledge_mining_loss(own[:, :1], own[:, 1:], guide, c.temperature, c.topk, context)
            for guide in guides]).mean()

    def _branches(self) -> dict[str, SkeletonCLR]:
        return {name: branch for name, branch in self.branches.items()
                if isinstance(branch, SkeletonCLR)}

    def encoders(self) -> dict[str, StreamEncoder]:
        """Each stream's query encoder, fed with its stream."""
        return {name: encoder for branch in self._branches().values()
                for name, encoder in branch.encoders().items()}

