"""AimCLR's energy-based attention drop on a feature map: the most salient joints and frames
of the last block's output are dropped, so that a view must be recognised from the rest."""

from __future__ import annotations

import torch


def energy_attention(maps: torch.Tensor, eps: float = 1e-4) -> torch.Tensor:
    """sigmoid((x − μ)² / (4(σ² + ε)) + 0.5) of maps (B, C, T, V), with μ and σ² of each
    channel over (T, V): near 0.62 for a typical activation, towards 1 for an outlying one."""
    mean = maps.mean(dim=(2, 3), keepdim=True)
    variance = maps.var(dim=(2, 3), keepdim=True, unbiased=False)
    return torch.sigmoid((maps - mean) ** 2 / (4 * (variance + eps)) + 0.5)


def _rescaled(maps: torch.Tensor, keep: torch.Tensor) -> torch.Tensor:
    """maps × keep (broadcast), rescaled by numel / kept so the mean activation is kept."""
    kept = keep.sum().clamp(min=1)
    return maps * keep * (keep.numel() / kept)


def energy_drop(maps: torch.Tensor, keep_prob: float = 0.7) -> torch.Tensor:
    """Drop the joints, then the frames, of maps (B, C, T, V) whose mean attention (over the
    other axes) reaches ``keep_prob``; each drop rescales by numel / kept."""
    attention = energy_attention(maps.detach())
    joints = (attention.mean(dim=(1, 2)) < keep_prob).to(maps.dtype)  # (B, V)
    frames = (attention.mean(dim=(1, 3)) < keep_prob).to(maps.dtype)  # (B, T)
    dropped = _rescaled(maps, joints[:, None, None, :])
    return _rescaled(dropped, frames[:, None, :, None])
