"""A virtual camera: the sequence seen from another viewpoint and distance (ViewCLR, eqs. 1–3).

The global frame is first moved to the body centre of the first frame (person 0's centre
joint), then every joint v becomes v' = R(α, β, γ)·(v − d) with R = Rx(α)·Ry(β)·Rz(γ), each an
anticlockwise rotation about its axis, and d a multiple of a unit displacement. Each of α, β,
γ and the multiple is either fixed or drawn from its set of values — per sequence, or per frame.
For 2-D keypoints the camera can only turn about the viewing axis: v' = R_z(γ)·(v − d) in the
image plane (α and β do not apply; d keeps its x and y).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from skelssl.transforms.masks import person_present, valid_frames
from skelssl.transforms.normalize import center
from skelssl.transforms.spatial import axis_rotations

ANGLES = (0.0, 60.0, 120.0, 180.0, 240.0, 300.0)
MULTIPLES = (0.0, 1.0, 2.0, 3.0, 4.0, 5.0)


@dataclass(frozen=True)
class Camera:
    """How virtual cameras are drawn. An angle (degrees) or multiple that is ``None`` is
    drawn uniformly from ``angles`` / ``multiples``; a number fixes it."""

    alpha: float | None = None  # about x
    beta: float | None = None  # about y
    gamma: float | None = None  # about z
    multiple: float | None = None  # of unit: d = multiple · unit
    angles: tuple[float, ...] = ANGLES
    multiples: tuple[float, ...] = MULTIPLES
    unit: tuple[float, float, float] = (0.0, 0.0, 1.0)
    per_frame: bool = False


def rotation_xyz(alpha: torch.Tensor, beta: torch.Tensor, gamma: torch.Tensor) -> torch.Tensor:
    """(..., 3, 3) rotations Rx(α)·Ry(β)·Rz(γ) for angles in radians of any common shape."""
    rx, ry, rz = axis_rotations(alpha, beta, gamma)
    return rx @ ry @ rz


def _draw(fixed: float | None, values: tuple[float, ...], shape: tuple[int, ...],
          generator: torch.Generator | None, device: torch.device) -> torch.Tensor:
    if fixed is not None:
        return torch.full(shape, float(fixed), device=device)
    choice = torch.randint(len(values), shape, generator=generator, device=device)
    return torch.tensor(values, device=device)[choice]


def draw_cameras(camera: Camera, samples: int, frames: int,
                 generator: torch.Generator | None = None, device: torch.device | str = "cpu",
                 channels: int = 3) -> tuple[torch.Tensor, torch.Tensor]:
    """Rotations (N, F, C, C) and displacements d (N, F, C); F = ``frames`` when the camera
    moves per frame, else 1. C = 2: the rotation about z and d's x, y (the image plane)."""
    device = torch.device(device)
    shape = (samples, frames if camera.per_frame else 1)
    radians = [_draw(angle, camera.angles, shape, generator, device) * (math.pi / 180)
               for angle in (camera.alpha, camera.beta, camera.gamma)]
    multiple = _draw(camera.multiple, camera.multiples, shape, generator, device)
    unit = torch.tensor(camera.unit, device=device)
    if channels == 2:
        alpha, beta, gamma = radians
        planar = rotation_xyz(torch.zeros_like(alpha), torch.zeros_like(beta), gamma)
        return planar[..., :2, :2], multiple[..., None] * unit[:2]
    return rotation_xyz(*radians), multiple[..., None] * unit


def virtual_camera(x: torch.Tensor, lengths: torch.Tensor, center_joint: int, camera: Camera,
                   generator: torch.Generator | None = None) -> torch.Tensor:
    """x[N, C, T, V, M] seen by a random virtual camera per sample (absent persons and padded
    frames stay zero)."""
    centred = center(x, lengths, center_joint, "first")
    rotation, displacement = draw_cameras(camera, x.shape[0], x.shape[2], generator, x.device,
                                          x.shape[1])
    rotation, displacement = rotation.to(x.dtype), displacement.to(x.dtype)
    moved = centred - displacement.permute(0, 2, 1)[:, :, :, None, None]
    seen = torch.einsum("ntij,njtvm->nitvm", rotation.expand(-1, x.shape[2], -1, -1), moved)
    keep = person_present(x) & valid_frames(lengths.to(x.device), x.shape[2])[:, :, None]
    return seen * keep[:, None, :, None, :].to(x.dtype)
