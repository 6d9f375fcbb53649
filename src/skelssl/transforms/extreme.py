"""AimCLR's extreme augmentations, batched: each sample draws its own parameters (and whether
the transform applies to it at all) from the generator, on the batch's device.

x is [N, C, T, V, M]; ``lengths`` holds each sample's valid frames where a transform looks
along time.
"""

from __future__ import annotations

import math

import torch

from skelssl.transforms.masks import valid_frames
from skelssl.transforms.spatial import gaussian_noise, rotation_zyx
from skelssl.transforms.temporal import interpolate_frames


def chosen(n: int, probability: float, generator: torch.Generator | None,
           device: torch.device) -> torch.Tensor:
    """(n,) bool: which samples a transform applied with ``probability`` reaches."""
    return torch.rand(n, generator=generator, device=device) < probability


def _where(mask: torch.Tensor, changed: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    return torch.where(mask.view(-1, *(1,) * (x.dim() - 1)), changed, x)


def spatial_flip(x: torch.Tensor, flip_index: list[int], probability: float = 0.5,
                 generator: torch.Generator | None = None) -> torch.Tensor:
    """Swap every left joint with its right partner (the layout's ``flip_index``); the
    coordinates themselves are not mirrored (as AimCLR's released code)."""
    flipped = x[:, :, :, flip_index]
    return _where(chosen(x.shape[0], probability, generator, x.device), flipped, x)


def main_axis_rotation(x: torch.Tensor, main_degrees: float = 30.0, other_degrees: float = 1.0,
                       generator: torch.Generator | None = None) -> torch.Tensor:
    """Rotate about x, then y, then z: one main axis per sample (uniform) by U(0, main_degrees),
    the other two by U(0, other_degrees). 2-D keypoints turn about z (the image plane) by
    U(0, main_degrees)."""
    n = x.shape[0]
    main = torch.randint(3, (n,), generator=generator, device=x.device)
    if x.shape[1] == 2:
        main.fill_(2)
    limit = torch.full((n, 3), float(other_degrees), device=x.device)
    limit[torch.arange(n, device=x.device), main] = float(main_degrees)
    angles = torch.rand(n, 3, generator=generator, device=x.device) * limit * (math.pi / 180)
    return torch.einsum("nij,njtvm->nitvm", rotation_zyx(angles, x.shape[1]).to(x.dtype), x)


def gaussian_kernels(sigma: torch.Tensor, size: int = 15, normalise: bool = True
                     ) -> torch.Tensor:
    """(N, size) kernels exp(−k² / 2σ²) for offsets k = −size//2 .. size//2, one per σ; summing
    to 1 when ``normalise`` (AimCLR's released kernel is not normalised)."""
    offsets = torch.arange(size, device=sigma.device, dtype=sigma.dtype) - size // 2
    kernel = torch.exp(-offsets[None] ** 2 / (2 * sigma[:, None] ** 2))
    return kernel / kernel.sum(dim=1, keepdim=True) if normalise else kernel


def temporal_blur(x: torch.Tensor, lengths: torch.Tensor, probability: float = 0.5,
                  size: int = 15, sigma_range: tuple[float, float] = (0.1, 2.0),
                  normalise: bool = True, generator: torch.Generator | None = None
                  ) -> torch.Tensor:
    """Blur each sample along its valid frames with a Gaussian of σ ~ U(sigma_range).

    Normalised, each output frame is the kernel-weighted mean of the valid frames within
    reach, so a constant sequence stays constant up to its ends; the released variant sums
    the raw kernel over zero-padded frames. Padded frames stay zero.
    """
    n, _, t = x.shape[:3]
    low, high = sigma_range
    sigma = low + (high - low) * torch.rand(n, generator=generator, device=x.device)
    kernel = gaussian_kernels(sigma.to(x.dtype), size, normalise)
    valid = valid_frames(lengths.to(x.device), t).to(x.dtype)  # (N, T)
    pad = size // 2

    def windows(y: torch.Tensor) -> torch.Tensor:  # (N, ..., T) → (N, ..., T, size)
        return torch.nn.functional.pad(y, (pad, pad)).unfold(-1, size, 1)

    masked = (x * valid[:, None, :, None, None]).movedim(2, -1)  # (N, C, V, M, T)
    summed = torch.einsum("ncvmtk,nk->ncvmt", windows(masked), kernel)
    if normalise:
        weight = torch.einsum("ntk,nk->nt", windows(valid), kernel).clamp(min=1e-12)
        summed = summed / weight[:, None, None, None]
    blurred = summed.movedim(-1, 2) * valid[:, None, :, None, None]
    return _where(chosen(n, probability, generator, x.device), blurred, x)


def axis_mask(x: torch.Tensor, probability: float = 0.5,
              generator: torch.Generator | None = None) -> torch.Tensor:
    """Zero one coordinate axis (uniform) of every joint in every frame."""
    n, c = x.shape[:2]
    axis = torch.randint(c, (n,), generator=generator, device=x.device)
    keep = torch.ones(n, c, device=x.device, dtype=x.dtype)
    keep[torch.arange(n, device=x.device), axis] = 0
    masked = x * keep.view(n, c, 1, 1, 1)
    return _where(chosen(n, probability, generator, x.device), masked, x)


def noise_sometimes(x: torch.Tensor, std: float = 0.01, probability: float = 0.5,
                    generator: torch.Generator | None = None) -> torch.Tensor:
    """Gaussian noise N(0, std²) on the chosen samples (absent persons and padding stay zero)."""
    noisy = gaussian_noise(x, std, generator)
    return _where(chosen(x.shape[0], probability, generator, x.device), noisy, x)


def speed_resample(x: torch.Tensor, probability: float = 0.5,
                   ratio_range: tuple[float, float] = (0.5, 1.5),
                   generator: torch.Generator | None = None) -> torch.Tensor:
    """Play the chosen samples at another speed: a ratio r ~ U(ratio_range) per sample resamples
    the T frames to ⌊T·r⌋ (linearly) and keeps the first T, zeros after the end (ActCLR's strong
    view; all T frames valid)."""
    n, _, t = x.shape[:3]
    low, high = ratio_range
    ratio = low + (high - low) * torch.rand(n, generator=generator, device=x.device)
    size = (t * ratio).floor().clamp(min=1)
    # output frame i of a sequence stretched to `size` frames shows source time i·(T−1)/(size−1)
    step = (t - 1) / (size - 1).clamp(min=1)
    source = torch.arange(t, device=x.device)[None] * step[:, None]
    inside = (torch.arange(t, device=x.device)[None] < size[:, None]).to(x.dtype)
    last = torch.full((n,), t - 1, device=x.device)
    played = interpolate_frames(x, source, last) * inside.view(n, 1, t, 1, 1)
    return _where(chosen(n, probability, generator, x.device), played, x)


def bone_rescale(x: torch.Tensor, parents: list[int], max_scale: float = 0.5,
                 generator: torch.Generator | None = None) -> torch.Tensor:
    """Every bone of every sample scaled by its own factor U(0, max_scale), the skeleton rebuilt
    outwards from the root (ActCLR's strong view: bones shrink to at most half)."""
    n, v = x.shape[0], x.shape[3]
    parent = torch.tensor(parents, device=x.device)
    bones = x - x[:, :, :, parent]
    scale = torch.rand(n, v, generator=generator, device=x.device, dtype=x.dtype) * max_scale
    scaled = bones * scale.view(n, 1, 1, v, 1)
    out = x.clone()
    for joint in _outward_order(parents):
        if parents[joint] != joint:
            out[:, :, :, joint] = out[:, :, :, parents[joint]] + scaled[:, :, :, joint]
    return out


def _outward_order(parents: list[int]) -> list[int]:
    """Joints ordered so that every parent comes before its children."""
    depth = []
    for joint in range(len(parents)):
        steps, node = 0, joint
        while parents[node] != node:
            node, steps = parents[node], steps + 1
        depth.append(steps)
    return sorted(range(len(parents)), key=depth.__getitem__)


def time_flip(x: torch.Tensor, probability: float = 0.5,
              generator: torch.Generator | None = None) -> torch.Tensor:
    """Play the chosen samples backwards (all T frames valid)."""
    return _where(chosen(x.shape[0], probability, generator, x.device), x.flip(2), x)
