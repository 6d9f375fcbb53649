"""Feature extraction from frozen encoders, and the check that they stayed frozen."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import TypeVar

import numpy as np
import torch
from torch import nn
from tqdm import tqdm

from skelssl.data.dataset import PreparedDataset
from skelssl.data.loader import batch_loader, epoch_batches
from skelssl.errors import EncoderChangedError
from skelssl.transforms.preprocess import Preprocess

M = TypeVar("M", bound=nn.Module)


def fingerprint(module: nn.Module) -> dict[str, str]:
    """sha1 of every parameter and buffer (BN running statistics included)."""
    return {name: hashlib.sha1(t.detach().cpu().contiguous().numpy().tobytes()).hexdigest()
            for name, t in module.state_dict().items()}


def digest(prints: dict[str, str]) -> str:
    """One hash for a whole fingerprint."""
    return hashlib.sha1("".join(f"{k}={v};" for k, v in sorted(prints.items())).encode()
                        ).hexdigest()


def assert_unchanged(before: dict[str, str], module: nn.Module, what: str) -> None:
    """Raise naming the tensors of ``module`` that differ from the ``before`` fingerprint."""
    changed = [name for name, value in fingerprint(module).items() if before.get(name) != value]
    if changed:
        raise EncoderChangedError(f"{what} changed during evaluation ({len(changed)} tensors, "
                                  f"e.g. {changed[:4]}); a frozen encoder must stay in eval "
                                  "mode without gradient steps")


def freeze(encoder: M) -> M:
    """Eval mode (BN uses running statistics, no dropout) and no gradients."""
    encoder.eval()
    for p in encoder.parameters():
        p.requires_grad_(False)
    return encoder


@torch.no_grad()
def encode(encoder: nn.Module, x: torch.Tensor, lengths: torch.Tensor,
           preprocess: Preprocess, device: torch.device) -> torch.Tensor:
    """Features of one raw batch, preprocessed on ``device``."""
    x, lengths = preprocess(x.to(device), lengths.to(device))
    return encoder(x, lengths).float()


def _in_order(data: PreparedDataset, index: np.ndarray, batch_size: int, workers: int,
              device: torch.device, desc: str | None = None
              ) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """``(x, lengths)`` batches of ``index`` in order, the last one partial."""
    batches = epoch_batches(index, batch_size, 0, 0, shuffle=False, drop_last=False)
    loader = batch_loader(data, batches, workers, pin_memory=device.type == "cuda")
    for x, lengths, _ in tqdm(loader, total=len(batches), desc=desc, disable=desc is None,
                              leave=False):
        yield x, lengths


@torch.no_grad()
def calibrate_batchnorm(encoder: M, data: PreparedDataset, index: np.ndarray,
                        preprocess: Preprocess, device: torch.device, batch_size: int = 256,
                        workers: int = 0) -> M:
    """Estimate BatchNorm running statistics from inputs (no labels, no gradient step).

    A randomly initialised encoder in eval mode would otherwise normalise with mean 0 and
    variance 1, and its features shrink towards zero layer after layer.
    """
    norms = [m for m in encoder.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    freeze(encoder)
    saved = [m.momentum for m in norms]
    for m in norms:
        m.reset_running_stats()
        m.momentum = None  # cumulative average over all batches
        m.train()
    for x, lengths in _in_order(data, index, batch_size, workers, device):
        encode(encoder, x, lengths, preprocess, device)
    for m, momentum in zip(norms, saved, strict=True):
        m.momentum = momentum
    return freeze(encoder)


@torch.no_grad()
def extract_features(encoder: nn.Module, data: PreparedDataset, index: np.ndarray,
                     preprocess: Preprocess, device: torch.device, batch_size: int = 256,
                     workers: int = 0, desc: str | None = None) -> torch.Tensor:
    """Features (len(index), D) on the CPU, in the order of ``index``."""
    freeze(encoder)
    return torch.cat([encode(encoder, x, lengths, preprocess, device).cpu()
                      for x, lengths in _in_order(data, index, batch_size, workers, device, desc)])
