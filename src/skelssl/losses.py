"""Loss functions as pure functions of embeddings; each is tested against hand-computed values."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from skelssl.transforms.masks import temporal_average


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


def sequence_mse(prediction: torch.Tensor, target: torch.Tensor, lengths: torch.Tensor
                 ) -> torch.Tensor:
    """Reconstruction error of frames[N, T, D]: squared error summed over a frame's D values,
    averaged over the sample's valid frames, then over samples (CRRL's L_r per direction)."""
    per_frame = ((prediction.float() - target.float()) ** 2).sum(dim=2)
    return temporal_average(per_frame, lengths).mean()


def distillation_loss(student: torch.Tensor, teacher: torch.Tensor) -> torch.Tensor:
    """Mean over samples of the squared L2 distance ‖student − teacher‖² (CRRL's INF term)."""
    return ((student.float() - teacher.float()) ** 2).sum(dim=1).mean()
