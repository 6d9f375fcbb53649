"""Random spatial augmentations (shear, rotation, noise), batched with per-sample parameters."""

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


def random_rotation_matrices(n: int, max_degrees: float,
                             generator: torch.Generator | None = None,
                             device: torch.device | str = "cpu") -> torch.Tensor:
    """(n, 3, 3) rotations R_z·R_y·R_x with each angle drawn from U(−max_degrees, max_degrees)."""
    angles = (torch.rand(n, 3, generator=generator, device=device) * 2 - 1) * (
        max_degrees * torch.pi / 180)
    cos, sin = angles.cos(), angles.sin()
    one, zero = torch.ones(n, device=device), torch.zeros(n, device=device)

    def rows(*entries: torch.Tensor) -> torch.Tensor:
        return torch.stack(entries, dim=1).view(n, 3, 3)

    rx = rows(one, zero, zero, zero, cos[:, 0], -sin[:, 0], zero, sin[:, 0], cos[:, 0])
    ry = rows(cos[:, 1], zero, sin[:, 1], zero, one, zero, -sin[:, 1], zero, cos[:, 1])
    rz = rows(cos[:, 2], -sin[:, 2], zero, sin[:, 2], cos[:, 2], zero, zero, zero, one)
    return rz @ ry @ rx


def rotate(x: torch.Tensor, max_degrees: float = 30.0,
           generator: torch.Generator | None = None) -> torch.Tensor:
    """x' = R·x per sample with a random rotation about the three axes."""
    r = random_rotation_matrices(x.shape[0], max_degrees, generator, x.device).to(x.dtype)
    return torch.einsum("nij,njtvm->nitvm", r, x)


def gaussian_noise(x: torch.Tensor, std: float = 0.05,
                   generator: torch.Generator | None = None) -> torch.Tensor:
    """x + ε with ε ~ N(0, std²) per coordinate; zero (padded/absent) entries stay zero."""
    noise = torch.randn(x.shape, generator=generator, device=x.device, dtype=x.dtype) * std
    return x + noise * (x != 0)
