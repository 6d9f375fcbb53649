"""Temporal ops: resampling the valid frames of each sample."""

from __future__ import annotations

import torch


def resize_valid(x: torch.Tensor, lengths: torch.Tensor, frames: int
                 ) -> tuple[torch.Tensor, torch.Tensor]:
    """Linearly resample each sample's valid frames ``x[n, :, :lengths[n]]`` to ``frames``.

    Output frame ``i`` samples source time ``i·(L−1)/(frames−1)`` (end points kept). A 1-frame
    sequence becomes ``frames`` copies of its frame. Returns the new batch and its lengths.
    """
    if frames < 1:
        raise ValueError(f"frames must be at least 1, got {frames}")
    n, c, _, v, m = x.shape
    last = (lengths.to(x.device) - 1).clamp(min=0).to(x.dtype)
    step = last / (frames - 1) if frames > 1 else torch.zeros_like(last)
    source = torch.arange(frames, device=x.device, dtype=x.dtype)[None, :] * step[:, None]
    lower = source.floor().long()
    upper = torch.minimum(lower + 1, last.long()[:, None])
    weight = (source - lower.to(x.dtype)).view(n, 1, frames, 1, 1)

    def take(index: torch.Tensor) -> torch.Tensor:
        return x.gather(2, index.view(n, 1, frames, 1, 1).expand(n, c, frames, v, m))

    out = take(lower) * (1 - weight) + take(upper) * weight
    return out, torch.full_like(lengths, frames)


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
    n, c, t, v, m = x.shape
    pad = t // padding_ratio
    start = torch.randint(0, 2 * pad + 1, (n,), generator=generator, device=x.device)
    index = mirror_index(start[:, None] - pad + torch.arange(t, device=x.device)[None], t)
    return x.gather(2, index.view(n, 1, t, 1, 1).expand(n, c, t, v, m))
