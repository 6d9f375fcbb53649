"""Random spatial augmentations (shear, rotation, noise), batched with per-sample parameters.

Every one works on 3-D joints and on 2-D keypoints (C = 2): a shear has C(C−1) off-diagonals,
and a rotation of 2-D keypoints is the rotation about z, in the image plane.
"""

from __future__ import annotations

import torch


def random_shear_matrices(n: int, beta: float, generator: torch.Generator | None = None,
                          device: torch.device | str = "cpu", channels: int = 3) -> torch.Tensor:
    """(n, C, C) shear matrices: unit diagonal, the C(C−1) off-diagonals (row by row) drawn
    from U(−beta, beta)."""
    rows, cols = torch.where(~torch.eye(channels, dtype=torch.bool))
    off = (torch.rand(n, len(rows), generator=generator, device=device) * 2 - 1) * beta
    r = torch.eye(channels, device=device).repeat(n, 1, 1)
    r[:, rows, cols] = off
    return r


def shear(x: torch.Tensor, beta: float = 0.5, generator: torch.Generator | None = None
          ) -> torch.Tensor:
    """x' = R·x per sample with a random shear R (SkeletonCLR's augmentation, β = 0.5)."""
    r = random_shear_matrices(x.shape[0], beta, generator, x.device, x.shape[1]).to(x.dtype)
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


def rotation_zyx(angles: torch.Tensor, channels: int = 3) -> torch.Tensor:
    """(..., C, C) rotations R_z·R_y·R_x (x first) for angles[..., 3] in radians; for C = 2
    the rotation about z alone, in the image plane."""
    rx, ry, rz = axis_rotations(angles[..., 0], angles[..., 1], angles[..., 2])
    if channels == 2:
        return rz[..., :2, :2]
    return rz @ ry @ rx


def random_rotation_matrices(n: int, max_degrees: float,
                             generator: torch.Generator | None = None,
                             device: torch.device | str = "cpu", channels: int = 3
                             ) -> torch.Tensor:
    """(n, C, C) rotations R_z·R_y·R_x with each angle drawn from U(−max_degrees, max_degrees)
    (C = 2: the rotation about z)."""
    angles = (torch.rand(n, 3, generator=generator, device=device) * 2 - 1) * (
        max_degrees * torch.pi / 180)
    return rotation_zyx(angles, channels)


def rotate(x: torch.Tensor, max_degrees: float = 30.0,
           generator: torch.Generator | None = None) -> torch.Tensor:
    """x' = R·x per sample with a random rotation about the three axes (2-D: about z)."""
    r = random_rotation_matrices(x.shape[0], max_degrees, generator, x.device,
                                 x.shape[1]).to(x.dtype)
    return torch.einsum("nij,njtvm->nitvm", r, x)


def gaussian_noise(x: torch.Tensor, std: float = 0.05,
                   generator: torch.Generator | None = None) -> torch.Tensor:
    """x + ε with ε ~ N(0, std²) per coordinate; zero (padded/absent) entries stay zero."""
    noise = torch.randn(x.shape, generator=generator, device=x.device, dtype=x.dtype) * std
    return x + noise * (x != 0)
