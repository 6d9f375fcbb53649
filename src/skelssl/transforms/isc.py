"""ISC's augmentations (Thoker et al., ACM MM 2021), batched with per-sample parameters: a
temporal crop-resize, then either a pose shear or a joint jitter."""

from __future__ import annotations

import torch

from skelssl.transforms.spatial import shear
from skelssl.transforms.temporal import resample_window


def crop_resize(x: torch.Tensor, lengths: torch.Tensor, frames: int, min_ratio: float = 0.1,
                generator: torch.Generator | None = None, min_frames: int = 0
                ) -> tuple[torch.Tensor, torch.Tensor]:
    """A window of each sample's valid frames, its length a fraction U(min_ratio, 1) of the
    sample's but at least ``min_frames`` (the released code's 64; all of a shorter sample's)
    and at least one, its start uniform, resampled linearly to ``frames``. Returns the batch
    [N, C, frames, V, M] and its lengths (all ``frames``)."""
    n = x.shape[0]
    valid = lengths.to(x.device).clamp(min=1).to(x.dtype)
    ratio = min_ratio + (1 - min_ratio) * torch.rand(n, generator=generator, device=x.device)
    window = torch.minimum((valid * ratio.to(x.dtype)).round().clamp(min=max(min_frames, 1)),
                           valid)
    start = ((valid - window + 1) * torch.rand(n, generator=generator, device=x.device)
             .to(x.dtype)).floor().clamp(max=valid - window)
    out = resample_window(x, start, window, frames)
    return out, torch.full_like(lengths, frames)


def joint_jitter(x: torch.Tensor, count: int, generator: torch.Generator | None = None
                 ) -> torch.Tensor:
    """``count`` random joints of each sample (every frame, every person) either multiplied by
    a random 3×3 matrix with entries U(−1, 1) or zeroed, one choice per sample."""
    n, c, _, v, _ = x.shape
    order = torch.rand(n, v, generator=generator, device=x.device).argsort(dim=1)
    chosen = torch.zeros(n, v, dtype=torch.bool, device=x.device)
    chosen.scatter_(1, order[:, :count], True)
    matrices = torch.rand(n, c, c, generator=generator, device=x.device) * 2 - 1
    zeroed = torch.rand(n, generator=generator, device=x.device) < 0.5
    matrices[zeroed] = 0
    jittered = torch.einsum("nij,njtvm->nitvm", matrices.to(x.dtype), x)
    return torch.where(chosen[:, None, None, :, None], jittered, x)


def jitter_count(joints: int, reference: int = 15, of: int = 25) -> int:
    """ISC jitters 15 of NTU's 25 joints: the same share of another layout's joints."""
    return max(1, round(joints * reference / of))


def pose_or_jitter(x: torch.Tensor, shear_beta: float, count: int,
                   generator: torch.Generator | None = None) -> torch.Tensor:
    """Each sample gets, with p 0.5, a pose shear (off-diagonals U(−β, β)), else a joint
    jitter of ``count`` joints."""
    posed, jittered = shear(x, shear_beta, generator), joint_jitter(x, count, generator)
    pose = torch.rand(x.shape[0], generator=generator, device=x.device) < 0.5
    return torch.where(pose.view(-1, 1, 1, 1, 1), posed, jittered)


def centre_crop(x: torch.Tensor, lengths: torch.Tensor, frames: int, ratio: float = 0.95
                ) -> tuple[torch.Tensor, torch.Tensor]:
    """The middle ``ratio`` of each sample's valid frames resampled to ``frames`` (ISC's test
    view). Returns the batch and its lengths (all ``frames``)."""
    valid = lengths.to(x.device).clamp(min=1).to(x.dtype)
    window = (valid * ratio).round().clamp(min=1)
    start = ((valid - window) / 2).floor()
    return resample_window(x, start, window, frames), torch.full_like(lengths, frames)
