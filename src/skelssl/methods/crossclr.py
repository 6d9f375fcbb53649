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

from collections.abc import Callable
from dataclasses import dataclass, field

import torch
from torch import nn

from skelssl.config import ConfigError
from skelssl.data.loader import Batch
from skelssl.losses import infonce_of_logits, knowledge_mining_loss, moco_logits
from skelssl.methods.skeletonclr import SkeletonCLR, shear_and_crop
from skelssl.skeleton import Layout
from skelssl.transforms.streams import STREAMS, stream

MINING = ("cross", "single", "none")


@dataclass
class CrosSCLRConfig:
    """Method section of a config (defaults: the paper's NTU settings)."""

    name: str = "crossclr"
    streams: list[str] = field(default_factory=lambda: ["joint", "motion", "bone"])
    queue_size: int = 32768
    projection_dim: int = 128
    temperature: float = 0.07
    momentum: float = 0.999
    shear_beta: float = 0.5
    padding_ratio: int = 6
    mining: str = "cross"  # cross (CVC-KM) | single (each view mines its own) | none
    mining_epoch: int = 150  # 0-based epoch from which mining replaces InfoNCE
    topk: int = 1  # mined positives per sample
    context: bool = True  # add the embedding-context block l_neg_u ⊙ l_neg_v (cross only)


class CrosSCLR(nn.Module):
    """One SkeletonCLR branch per stream, trained jointly; mining couples them."""

    Config = CrosSCLRConfig

    def __init__(self, branches: dict[str, SkeletonCLR], mining: str = "cross",
                 mining_epoch: int = 150, topk: int = 1, context: bool = True) -> None:
        super().__init__()
        if mining not in MINING:
            raise ConfigError(f"method.mining = {mining!r}; expected one of {MINING}")
        if mining == "cross" and len(branches) < 2:
            raise ConfigError("method.mining = 'cross' needs at least two streams")
        sizes = {branch.queue.keys.shape[0] for branch in branches.values()}
        if len(sizes) != 1:
            raise ConfigError("every stream's queue must have the same size")
        if not 0 <= topk <= min(sizes):
            raise ConfigError(f"method.topk = {topk}: expected 0..{min(sizes)} (the queue size)")
        self.branches = nn.ModuleDict(branches)
        first = next(iter(branches.values()))
        self.layout = first.layout
        self.shear_beta = first.shear_beta
        self.padding_ratio = first.padding_ratio
        self.temperature = first.temperature
        self.mining = mining
        self.mining_epoch = mining_epoch
        self.topk = topk
        self.context = context

    @classmethod
    def from_config(cls, config: CrosSCLRConfig, layout: Layout,
                    make_encoder: Callable[[int], nn.Module]) -> CrosSCLR:
        """Build from a config; ``make_encoder(in_channels)`` gives a fresh encoder per stream."""
        unknown = [s for s in config.streams if s not in STREAMS]
        if unknown or not config.streams or len(set(config.streams)) != len(config.streams):
            raise ConfigError(f"method.streams = {config.streams}: expected distinct names "
                              f"from {STREAMS}")
        branches = {name: SkeletonCLR(make_encoder(3), layout, name, config.queue_size,
                                      config.projection_dim, config.temperature,
                                      config.momentum, config.shear_beta, config.padding_ratio)
                    for name in config.streams}
        return cls(branches, config.mining, config.mining_epoch, config.topk, config.context)

    def mining_active(self, epoch: int) -> bool:
        """Whether ``epoch`` (0-based) trains with knowledge mining rather than InfoNCE."""
        return self.mining != "none" and epoch >= self.mining_epoch

    def training_step(self, batch: Batch, epoch: int,
                      generator: torch.Generator | None = None) -> dict[str, torch.Tensor]:
        """One step on joints x[N, C, T, V, M] (all T frames valid)."""
        view_q = shear_and_crop(batch.x, self.shear_beta, self.padding_ratio, generator)
        view_k = shear_and_crop(batch.x, self.shear_beta, self.padding_ratio, generator)
        logits, keys = {}, {}
        for name, branch in self.branches.items():
            q = branch.embed_query(stream(view_q, name, self.layout))
            keys[name] = branch.embed_key(stream(view_k, name, self.layout))
            logits[name] = moco_logits(q, keys[name], branch.queue.keys.clone().detach())
        mining = self.mining_active(epoch)
        losses = {name: self.stream_loss(name, logits, mining) for name in self.branches}
        for name, branch in self.branches.items():
            branch.queue.push(keys[name])
        out = {f"loss_{name}": loss for name, loss in losses.items()}
        out["loss"] = torch.stack(list(losses.values())).sum()
        out["mining"] = torch.tensor(float(mining), device=out["loss"].device)
        return out

    def stream_loss(self, name: str, logits: dict[str, torch.Tensor], mining: bool
                    ) -> torch.Tensor:
        """InfoNCE, or the mean knowledge-mining loss of stream ``name`` over its guides."""
        own = logits[name]
        if not mining:
            return infonce_of_logits(own, self.temperature)
        if self.mining == "single":
            guides, context = [own[:, 1:]], False
        else:
            guides = [other[:, 1:] for partner, other in logits.items() if partner != name]
            context = self.context
        return torch.stack([
            knowledge_mining_loss(own[:, :1], own[:, 1:], guide, self.temperature, self.topk,
                                  context)
            for guide in guides]).mean()

    def encoders(self) -> dict[str, nn.Module]:
        """Each stream's query encoder, fed with its stream."""
        return {name: encoder for branch in self.branches.values()
                for name, encoder in branch.encoders().items()}

