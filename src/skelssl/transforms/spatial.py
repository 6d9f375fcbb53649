"""Random spatial augmentations, batched with per-sample parameters."""

from __future__ import annotations

import torch


def random_shear_matrices(n: int, beta: float, generator: torch.Generator | None = None,
                          device: torch.device | str = "cpu") -> torch.Tensor:
    """(n, 3, 3) shear matrices: unit diagonal, six off-diagonals drawn from U(−beta, beta)."""
    off = (torch.rand(n, 6, generator=generator, device=device) * 2 - 1) * beta
    r = torch.eye(3, device=device).repeat(n, 1, 1)
    rows, cols = torch.tensor([0, 0, 1, 1, 2, 2]), torch.tensor([1, 2, 0, 2, 0, 1])
    r[:, rows, cols] = off
    return r


def shear(x: torch.Tensor, beta: float = 0.5, generator: torch.Generator | None = None
          ) -> torch.Tensor:
    """x' = R·x per sample with a random shear R (SkeletonCLR's augmentation, β = 0.5)."""
    r = random_shear_matrices(x.shape[0], beta, generator, x.device).to(x.dtype)
    return torch.einsum("nij,njtvm->nitvm", r, x)
