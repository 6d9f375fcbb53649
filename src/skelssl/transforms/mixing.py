"""Transforms that mix each sequence with a partner from the same batch (ActCLR's Skeleton
AdaIN and Skeleton Mix: Mixup, CutMix, ResizeMix), batched, on the batch's device.

A partner is another sample of the batch: sample n is paired with (n + r) mod N for one random
shift r in 1..N−1, so no sample is its own partner. x is [N, C, T, V, M] with all T frames
valid (sequences resized to a fixed length, as the ST-GCN family trains).
"""

from __future__ import annotations

import torch

from skelssl.transforms.temporal import interpolate_frames


def partner_index(n: int, generator: torch.Generator | None = None,
                  device: torch.device | str = "cpu") -> torch.Tensor:
    """(N,) index of each sample's partner: the batch rolled by a random shift in 1..N−1."""
    if n < 2:
        raise ValueError(f"mixing needs at least 2 samples in a batch, got {n}")
    shift = int(torch.randint(1, n, (1,), generator=generator, device=device))
    return (torch.arange(n, device=device) + shift) % n


def skeleton_adain(x: torch.Tensor, partner: torch.Tensor, eps: float = 1e-3) -> torch.Tensor:
    """Each sequence with its partner's statistics (ActCLR eq. 6): its spatial mean (over the
    joints, per frame) and temporal standard deviation (over the frames, per joint) replaced by
    the partner's: (x − μ_V(x)) / (σ_T(x) + ε) · σ_T(x_p) + μ_V(x_p)."""
    mean = x.mean(dim=3, keepdim=True)
    std = x.std(dim=2, keepdim=True)
    return (x - mean) / (std + eps) * std[partner] + mean[partner]


def mixup(x: torch.Tensor, partner: torch.Tensor, generator: torch.Generator | None = None
          ) -> tuple[torch.Tensor, torch.Tensor]:
    """(1 − λ)·x + λ·x_partner with λ ~ U(0, 1) per sample; returns the mix and λ (N,)."""
    lam = torch.rand(x.shape[0], generator=generator, device=x.device, dtype=x.dtype)
    weight = lam.view(-1, 1, 1, 1, 1)
    return (1 - weight) * x + weight * x[partner], lam


def region_mask(x: torch.Tensor, parts: list[tuple[int, ...]], part_range: tuple[int, int],
                frame_range: tuple[int, int], generator: torch.Generator | None = None
                ) -> torch.Tensor:
    """(N, T, V) 0/1 mask of a random region per sample: a number of body parts drawn from
    ``part_range`` (inclusive) over a window of frames whose length is drawn from
    ``frame_range`` (inclusive), at a random start."""
    n, _, t, v, _ = x.shape
    device = x.device
    members = torch.zeros(len(parts), v, device=device, dtype=x.dtype)  # part × joint
    for index, part in enumerate(parts):
        members[index, list(part)] = 1
    count = torch.randint(part_range[0], part_range[1] + 1, (n, 1), generator=generator,
                          device=device)
    rank = torch.rand(n, len(parts), generator=generator, device=device).argsort(dim=1)
    chosen = (rank.argsort(dim=1) < count).to(x.dtype)  # `count` random parts per sample
    joints = (chosen @ members).clamp(max=1)
    length = torch.randint(frame_range[0], frame_range[1] + 1, (n,), generator=generator,
                           device=device).clamp(max=t)
    start = (torch.rand(n, generator=generator, device=device) * (t - length + 1)).long()
    frames = torch.arange(t, device=device)[None]
    window = ((frames >= start[:, None]) & (frames < (start + length)[:, None])).to(x.dtype)
    return window[:, :, None] * joints[:, None, :]


def cutmix(x: torch.Tensor, partner: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """The partner's joints pasted into each sequence where ``mask`` (N, T, V) is 1."""
    weight = mask[:, None, :, :, None]
    return x * (1 - weight) + x[partner] * weight


def resizemix(x: torch.Tensor, partner: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Like :func:`cutmix`, but what is pasted is the partner's whole sequence resized in time
    to the region's window (each region's frames show the partner from its first frame to its
    last, on the region's joints)."""
    t = x.shape[2]
    window = mask.amax(dim=2)  # (N, T): the region's frames, one contiguous run
    length = window.sum(dim=1)
    start = window.argmax(dim=1).to(x.dtype)
    step = (t - 1) / (length - 1).clamp(min=1)
    frames = torch.arange(t, device=x.device, dtype=x.dtype)[None]
    source = ((frames - start[:, None]) * step[:, None]).clamp(min=0)
    pasted = interpolate_frames(x[partner], source, torch.full_like(length, t - 1))
    weight = mask[:, None, :, :, None]
    return x * (1 - weight) + pasted * weight
