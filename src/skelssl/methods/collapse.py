"""Collapse monitor: how spread out a batch of embeddings is on the unit sphere.

Contrastive methods return these next to their losses (``spread``/``cosine``, or
``spread_<stream>``/``cosine_<stream>`` per stream); the engine logs them every epoch and warns
when a spread falls below ``train.collapse_warning``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

SPREAD, COSINE = "spread", "cosine"


@torch.no_grad()
def embedding_spread(z: torch.Tensor) -> torch.Tensor:
    """√d × the mean over dimensions of the batch standard deviation of the L2-normalised
    embeddings z[N, d]: about 1 when they are spread evenly over the sphere, 0 when they
    have collapsed onto one point (low when they share one direction or few dimensions)."""
    unit = F.normalize(z.detach().float(), dim=1)
    return unit.std(dim=0).mean() * unit.shape[1] ** 0.5


@torch.no_grad()
def mean_cosine(z: torch.Tensor) -> torch.Tensor:
    """Mean cosine similarity between the N(N − 1) pairs of distinct embeddings z[N, d]."""
    unit = F.normalize(z.detach().float(), dim=1)
    count = unit.shape[0]
    return (unit.sum(dim=0).square().sum() - count) / (count * (count - 1))


def collapse_metrics(z: torch.Tensor, suffix: str = "") -> dict[str, torch.Tensor]:
    """``spread`` and ``cosine`` of z (keys ``spread_<suffix>``... when a suffix is given)."""
    tail = f"_{suffix}" if suffix else ""
    return {f"{SPREAD}{tail}": embedding_spread(z), f"{COSINE}{tail}": mean_cosine(z)}


@torch.no_grad()
def key_identification(q: torch.Tensor, k: torch.Tensor) -> dict[str, torch.Tensor]:
    """How well queries q[N, d] tell their own keys k[N, d] (row i belongs to sample i) from
    the batch's other keys: ``top1``, the fraction whose most similar key is their own (chance
    1/N), and ``gap``, the mean cosine with the own key minus the mean with the other N − 1."""
    similarity = F.normalize(q.detach().float(), dim=1) @ F.normalize(k.detach().float(), dim=1).T
    count = similarity.shape[0]
    own = similarity.diagonal()
    others = (similarity.sum(dim=1) - own) / (count - 1)
    top1 = (similarity.argmax(dim=1) == torch.arange(count, device=q.device)).float().mean()
    return {"top1": top1, "gap": (own - others).mean()}
