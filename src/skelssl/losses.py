"""Loss functions as pure functions of embeddings; each is tested against hand-computed values."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def moco_logits(q: torch.Tensor, k: torch.Tensor, queue: torch.Tensor) -> torch.Tensor:
    """[q·k⁺, q·queue] per query, shape (N, 1 + K), in float32; inputs are L2-normalised."""
    q, k, queue = q.float(), k.float(), queue.float()
    positive = (q * k).sum(dim=1, keepdim=True)
    return torch.cat([positive, q @ queue.t()], dim=1)


def infonce(q: torch.Tensor, k: torch.Tensor, queue: torch.Tensor, temperature: float = 0.07
            ) -> torch.Tensor:
    """MoCo InfoNCE: cross-entropy of [l_pos, l_neg]/τ with the positive at index 0."""
    logits = moco_logits(q, k, queue) / temperature
    target = torch.zeros(q.shape[0], dtype=torch.long, device=q.device)
    return F.cross_entropy(logits, target)
