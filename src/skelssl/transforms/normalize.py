"""Spatial preprocessing: centring, view alignment, min-max scaling, person padding."""

from __future__ import annotations

import torch

from skelssl.skeleton import Layout
from skelssl.transforms.masks import first_present_frame, person_present, valid_frames

CENTER_MODES = ("frame", "first")


def _keep_mask(x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """(N, 1, T, 1, M) float: valid frame and person present."""
    keep = person_present(x) & valid_frames(lengths, x.shape[2])[:, :, None]
    return keep[:, None, :, None, :].to(x.dtype)


def center(x: torch.Tensor, lengths: torch.Tensor, joint: int, mode: str = "frame"
           ) -> torch.Tensor:
    """Subtract person 0's ``joint`` from every person: per frame, or at its first frame.

    Absent persons and padded frames stay zero.
    """
    if mode not in CENTER_MODES:
        raise ValueError(f"centre mode {mode!r}: expected one of {CENTER_MODES}")
    reference = x[:, :, :, joint, 0]  # (N, C, T)
    if mode == "first":
        first = first_present_frame(x)
        reference = reference.gather(2, first.view(-1, 1, 1).expand(-1, x.shape[1], 1))
    return (x - reference[:, :, :, None, None]) * _keep_mask(x, lengths)


VIEW_AXES = ("shoulders", "hips")


def view_rotation(x: torch.Tensor, layout: Layout, axes: str = "shoulders", eps: float = 1e-6
                  ) -> torch.Tensor:
    """(N, C, C) rotations into a body frame of person 0 at its first present frame (2-D
    keypoints: the rotation in the image plane that lines up the same vector).

    ``axes="shoulders"``: the shoulder vector becomes +x and the spine lies in the x-y plane
    (NTU pipelines). ``axes="hips"``: the spine becomes +y and the hip vector lies in the x-y
    plane (Predict & Cluster's view-invariant transform, used by CRRL). Degenerate frames give
    the identity.
    """
    if axes not in VIEW_AXES:
        raise ValueError(f"view axes {axes!r}: expected one of {VIEW_AXES}")
    lateral_pair = layout.shoulders if axes == "shoulders" else layout.hips
    if lateral_pair is None or layout.spine is None:
        raise ValueError(f"layout {layout.name!r} names no {axes}/spine joints")
    first = first_present_frame(x)
    pose = x[torch.arange(x.shape[0], device=x.device), :, first, :, 0]  # (N, 3, V)
    lateral = pose[:, :, lateral_pair[1]] - pose[:, :, lateral_pair[0]]
    spine = pose[:, :, layout.spine[1]] - pose[:, :, layout.spine[0]]
    if x.shape[1] == 2:
        return _planar_view_rotation(lateral, spine, axes, eps)
    if axes == "shoulders":
        ex, ex_ok = _unit(lateral, eps)
        ey, ey_ok = _unit(spine - (spine * ex).sum(dim=1, keepdim=True) * ex, eps)
    else:
        ey, ey_ok = _unit(spine, eps)
        ex, ex_ok = _unit(lateral - (lateral * ey).sum(dim=1, keepdim=True) * ey, eps)
    rotation = torch.stack([ex, ey, torch.linalg.cross(ex, ey, dim=1)], dim=1)
    eye = torch.eye(3, dtype=x.dtype, device=x.device).expand_as(rotation)
    return torch.where((ex_ok & ey_ok)[:, None, None], rotation, eye)


def _planar_view_rotation(lateral: torch.Tensor, spine: torch.Tensor, axes: str, eps: float
                          ) -> torch.Tensor:
    """2-D keypoints: the rotation in the image plane that turns the shoulder vector to +x
    (``shoulders``) or the spine to +y (``hips``); the identity for a degenerate frame."""
    if axes == "shoulders":
        ex, ok = _unit(lateral, eps)
        ey = torch.stack([-ex[:, 1], ex[:, 0]], dim=1)
    else:
        ey, ok = _unit(spine, eps)
        ex = torch.stack([ey[:, 1], -ey[:, 0]], dim=1)
    rotation = torch.stack([ex, ey], dim=1)
    eye = torch.eye(2, dtype=lateral.dtype, device=lateral.device).expand_as(rotation)
    return torch.where(ok[:, None, None], rotation, eye)


def _unit(v: torch.Tensor, eps: float) -> tuple[torch.Tensor, torch.Tensor]:
    """v / |v| along dim 1, and whether |v| > eps."""
    norm = v.norm(dim=1, keepdim=True)
    return v / norm.clamp(min=eps), norm[:, 0] > eps


def align_view(x: torch.Tensor, layout: Layout, axes: str = "shoulders") -> torch.Tensor:
    """Rotate each sample into person 0's body frame (see :func:`view_rotation`)."""
    return torch.einsum("nij,njtvm->nitvm", view_rotation(x, layout, axes), x)


def minmax_normalize(x: torch.Tensor, lengths: torch.Tensor, eps: float = 1e-8
                     ) -> torch.Tensor:
    """Scale each sample, person and coordinate to [−1, 1] over its present, valid frames (CRRL).

    A constant coordinate maps to 0; padded frames and absent persons stay zero.
    """
    keep = _keep_mask(x, lengths).expand_as(x).bool()
    big = torch.finfo(x.dtype).max
    low = torch.where(keep, x, big).amin(dim=(2, 3), keepdim=True)
    high = torch.where(keep, x, -big).amax(dim=(2, 3), keepdim=True)
    span = high - low
    scaled = torch.where(span > eps, 2 * (x - low) / span.clamp(min=eps) - 1, 0.0)
    return scaled * keep


def pad_persons(x: torch.Tensor, persons: int) -> torch.Tensor:
    """Zero-pad (or cut) the person axis to ``persons``."""
    m = x.shape[4]
    if m >= persons:
        return x[..., :persons]
    return torch.nn.functional.pad(x, (0, persons - m))
