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


def axis_rotations(alpha: torch.Tensor, beta: torch.Tensor, gamma: torch.Tensor
                   ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Anticlockwise (right-handed) rotations (..., 3, 3) about x by α, y by β and z by γ
    (radians, tensors of one shape)."""
    one, zero = torch.ones_like(alpha), torch.zeros_like(alpha)

    def matrix(*entries: torch.Tensor) -> torch.Tensor:
        return torch.stack(entries, dim=-1).unflatten(-1, (3, 3))

    ca, sa, cb, sb = alpha.cos(), alpha.sin(), beta.cos(), beta.sin()
    cg, sg = gamma.cos(), gamma.sin()
    return (matrix(one, zero, zero, zero, ca, -sa, zero, sa, ca),
            matrix(cb, zero, sb, zero, one, zero, -sb, zero, cb),
            matrix(cg, -sg, zero, sg, cg, zero, zero, zero, one))


def rotation_zyx(angles: torch.Tensor) -> torch.Tensor:
    """(..., 3, 3) rotations R_z·R_y·R_x (x first) for angles[..., 3] in radians."""
    rx, ry, rz = axis_rotations(angles[..., 0], angles[..., 1], angles[..., 2])
    return rz @ ry @ rx


def random_rotation_matrices(n: int, max_degrees: float,
                             generator: torch.Generator | None = None,
                             device: torch.device | str = "cpu") -> torch.Tensor:
    """(n, 3, 3) rotations R_z·R_y·R_x with each angle drawn from U(−max_degrees, max_degrees)."""
    angles = (torch.rand(n, 3, generator=generator, device=device) * 2 - 1) * (
        max_degrees * torch.pi / 180)
    return rotation_zyx(angles)


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
