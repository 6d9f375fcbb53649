"""Which frames and persons of a padded batch hold data."""

from __future__ import annotations

import torch


def valid_frames(lengths: torch.Tensor, frames: int) -> torch.Tensor:
    """(N, T) bool: frame ``t`` of sample ``n`` is within its valid length."""
    return torch.arange(frames, device=lengths.device)[None, :] < lengths[:, None]


def person_present(x: torch.Tensor) -> torch.Tensor:
    """(N, T, M) bool: the person has at least one non-zero coordinate in that frame."""
    return (x != 0).any(dim=3).any(dim=1)


def first_present_frame(x: torch.Tensor, person: int = 0) -> torch.Tensor:
    """(N,) index of the first frame in which ``person`` appears (0 if never)."""
    present = person_present(x)[:, :, person]
    return present.to(torch.int8).argmax(dim=1)


def temporal_average(frames: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """Mean of frames[N, T, ...] over each sample's valid frames (temporal average pooling)."""
    trailing = (1,) * (frames.dim() - 2)
    mask = valid_frames(lengths.to(frames.device), frames.shape[1]).to(frames.dtype)
    counts = lengths.to(frames.device, frames.dtype).clamp(min=1)
    return (frames * mask.view(*mask.shape, *trailing)).sum(dim=1) / counts.view(-1, *trailing)
