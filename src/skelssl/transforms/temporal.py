"""Temporal ops: resampling, cropping and reversing the valid frames of each sample."""

from __future__ import annotations

import torch

from skelssl.transforms.masks import valid_frames


def take_frames(x: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
    """x[n, :, index[n, i]] for an index[N, T'] of frame numbers."""
    n, c, _, v, m = x.shape
    t = index.shape[1]
    return x.gather(2, index.view(n, 1, t, 1, 1).expand(n, c, t, v, m))


def resize_valid(x: torch.Tensor, lengths: torch.Tensor, frames: int
                 ) -> tuple[torch.Tensor, torch.Tensor]:
    """Linearly resample each sample's valid frames ``x[n, :, :lengths[n]]`` to ``frames``.

    Output frame ``i`` samples source time ``i·(L−1)/(frames−1)`` (end points kept). A 1-frame
    sequence becomes ``frames`` copies of its frame. Returns the new batch and its lengths.
    """
    start = torch.zeros(x.shape[0], device=x.device, dtype=x.dtype)
    window = lengths.to(x.device).clamp(min=1).to(x.dtype)
    return resample_window(x, start, window, frames), torch.full_like(lengths, frames)


def resample_window(x: torch.Tensor, start: torch.Tensor, window: torch.Tensor, frames: int
                    ) -> torch.Tensor:
    """Frames ``start[n] .. start[n] + window[n] − 1`` of each sample (whole numbers, at least
    one frame) linearly resampled to ``frames``: output frame ``i`` samples source time
    ``start + i·(window − 1)/(frames − 1)``, both end points kept."""
    if frames < 1:
        raise ValueError(f"frames must be at least 1, got {frames}")
    step = (window - 1) / (frames - 1) if frames > 1 else torch.zeros_like(window)
    source = start[:, None] + torch.arange(frames, device=x.device, dtype=x.dtype)[None] * \
        step[:, None]
    return interpolate_frames(x, source, start + window - 1)


def interpolate_frames(x: torch.Tensor, source: torch.Tensor, last: torch.Tensor
                       ) -> torch.Tensor:
    """x at fractional source times source[N, F] (linear between neighbouring frames, never
    past frame ``last[n]``): [N, C, F, V, M]."""
    source = torch.minimum(source, last[:, None].to(source.dtype))
    lower = source.floor().long()
    upper = torch.minimum(lower + 1, last.long()[:, None])
    weight = (source - lower.to(source.dtype)).to(x.dtype).view(source.shape[0], 1, -1, 1, 1)
    return take_frames(x, lower) * (1 - weight) + take_frames(x, upper) * weight


def mirror_index(index: torch.Tensor, frames: int) -> torch.Tensor:
    """Reflect out-of-range frame indices back into 0..frames−1, edge frame repeated."""
    index = torch.where(index < 0, -index - 1, index)
    return torch.where(index >= frames, 2 * frames - 1 - index, index).clamp(0, frames - 1)


def temporal_crop(x: torch.Tensor, padding_ratio: int = 6,
                  generator: torch.Generator | None = None) -> torch.Tensor:
    """Pad both ends with ⌊T/padding_ratio⌋ mirrored frames; keep a random window of T frames.

    Expects batches whose T frames are all valid (e.g. after :func:`resize_valid`). The window
    start is drawn per sample from 0..2·pad.
    """
    n, t = x.shape[0], x.shape[2]
    pad = t // padding_ratio
    start = torch.randint(0, 2 * pad + 1, (n,), generator=generator, device=x.device)
    index = mirror_index(start[:, None] - pad + torch.arange(t, device=x.device)[None], t)
    return take_frames(x, index)


FRAME_CAPS = ("even", "stride")


def cap_frames(x: torch.Tensor, lengths: torch.Tensor, max_frames: int, mode: str = "even"
               ) -> tuple[torch.Tensor, torch.Tensor]:
    """Keep at most ``max_frames`` frames per sample; shorter samples are unchanged (CRRL).

    ``mode="even"``: frames ``round(i·(L−1)/(max_frames−1))``, end points kept.
    ``mode="stride"``: every ``⌊L/max_frames⌋``-th frame from the first, the first
    ``max_frames`` of them (Predict & Cluster's NW-UCLA downsampling, which CRRL's data went
    through; a sample of 51..99 frames keeps its first ``max_frames``).
    Returns the batch cut to ``min(T, max_frames)`` frames and the new lengths.
    """
    if max_frames < 1:
        raise ValueError(f"max_frames must be at least 1, got {max_frames}")
    if mode not in FRAME_CAPS:
        raise ValueError(f"frame cap {mode!r}: expected one of {FRAME_CAPS}")
    t = x.shape[2]
    out_frames = min(t, max_frames)
    lengths = lengths.to(x.device)
    steps = torch.arange(out_frames, device=x.device)
    if mode == "even":
        span = (lengths - 1).clamp(min=0).to(torch.float64)[:, None]
        picked = (steps[None].to(torch.float64) * span / max(max_frames - 1, 1)).round().long()
    else:
        picked = steps[None] * torch.div(lengths, max_frames, rounding_mode="floor")[:, None]
    long = lengths[:, None] > max_frames
    index = torch.where(long, picked, steps[None].expand_as(picked))
    new_lengths = lengths.clamp(max=max_frames)
    keep = valid_frames(new_lengths, out_frames)[:, None, :, None, None].to(x.dtype)
    return take_frames(x, index.clamp(max=t - 1)) * keep, new_lengths


def reverse_valid(x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """Each sample's valid frames in reverse order, padding left in place (zeros stay zeros)."""
    t = x.shape[2]
    steps = torch.arange(t, device=x.device)[None]
    last = (lengths.to(x.device) - 1)[:, None]
    index = torch.where(steps <= last, last - steps, steps)
    return take_frames(x, index)
