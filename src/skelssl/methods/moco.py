"""MoCo pieces shared by the contrastive methods: momentum copies and the feature queue."""

from __future__ import annotations

import copy

import torch
import torch.nn.functional as F
from torch import nn

from skelssl.methods.ranks import gather_from_all_ranks
from skelssl.models.base import feature_dim_of
from skelssl.models.heads import projection_head


def momentum_copy(module: nn.Module) -> nn.Module:
    """A frozen copy of ``module`` (same initial weights) to be updated by momentum only."""
    twin = copy.deepcopy(module)
    for p in twin.parameters():
        p.requires_grad_(False)
    return twin


def query_and_key(encoder: nn.Module, projection_dim: int, head_norm: bool = False
                  ) -> tuple[nn.Module, nn.Module, nn.Module, nn.Module]:
    """The query encoder, its projection head, and their momentum copies (key encoder, key
    head): MoCo's four networks around one freshly built encoder."""
    dim = feature_dim_of(encoder)
    head = projection_head(dim, dim, projection_dim, head_norm)
    return encoder, head, momentum_copy(encoder), momentum_copy(head)


@torch.no_grad()
def momentum_update(target: nn.Module, source: nn.Module, momentum: float) -> None:
    """target ← m·target + (1 − m)·source, parameter by parameter (m = 1 leaves it unchanged)."""
    if momentum == 1.0:
        return
    for t, s in zip(target.parameters(), source.parameters(), strict=True):
        t.mul_(momentum).add_(s.detach(), alpha=1.0 - momentum)


class FeatureQueue(nn.Module):
    """A ring buffer of K L2-normalised keys (initialised at random), saved with the model."""

    keys: torch.Tensor
    pointer: torch.Tensor

    def __init__(self, size: int, dim: int) -> None:
        super().__init__()
        self.register_buffer("keys", F.normalize(torch.randn(size, dim), dim=1))
        self.register_buffer("pointer", torch.zeros((), dtype=torch.long))

    @torch.no_grad()
    def push(self, keys: torch.Tensor) -> None:
        """Enqueue the keys of all ranks, overwriting the oldest ones."""
        keys = gather_from_all_ranks(keys.detach().to(self.keys.dtype))
        size = self.keys.shape[0]
        index = (self.pointer + torch.arange(keys.shape[0], device=keys.device)) % size
        self.keys[index] = keys[-size:] if keys.shape[0] > size else keys
        self.pointer.fill_(int((self.pointer + keys.shape[0]) % size))
