"""The dtype of classifiers trained or searched on frozen features (linear probe, kNN)."""

from __future__ import annotations

import torch


def probe_dtype(device: torch.device | str) -> torch.dtype:
    """float64, so that results do not depend on the number of threads; float32 on MPS,
    which has no float64."""
    return torch.float32 if torch.device(device).type == "mps" else torch.float64
