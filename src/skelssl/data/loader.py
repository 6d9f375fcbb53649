"""Batches read straight from a prepared dataset: one memory-mapped read per batch.

The order of batches is a pure function of (seed, epoch), so a resumed run sees exactly the
batches an uninterrupted one would. Under DDP every process draws the same global order and
takes its own slice of each global batch.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, Sampler

from skelssl.data.dataset import PreparedDataset
from skelssl.errors import ConfigError, DatasetError


def epoch_batches(index: np.ndarray, batch_size: int, seed: int, epoch: int,
                  shuffle: bool = True, drop_last: bool = True, rank: int = 0,
                  world_size: int = 1) -> list[np.ndarray]:
    """The sample indices of every batch this process reads in ``epoch``.

    ``batch_size`` is global; each of ``world_size`` processes gets an equal slice of it.
    """
    if batch_size % world_size:
        raise ConfigError(f"train.batch_size {batch_size} is not divisible by {world_size} "
                          "processes")
    index = np.asarray(index, dtype=np.int64)
    if shuffle:
        order = np.random.default_rng([seed, epoch]).permutation(len(index))
        index = index[order]
    count = len(index) // batch_size if drop_last else -(-len(index) // batch_size)
    if count == 0:
        raise ConfigError(f"{len(index)} samples make no full batch of {batch_size}; lower "
                          "train.batch_size")
    share = batch_size // world_size
    batches = []
    for b in range(count):
        chunk = index[b * batch_size:(b + 1) * batch_size]
        part = chunk[rank * share:(rank + 1) * share] if len(chunk) == batch_size else (
            np.array_split(chunk, world_size)[rank])
        batches.append(part)
    return batches


class BatchReader(Dataset):
    """Item ``i`` is batch ``i`` as ``(x, lengths, labels)``, read up to its longest sample."""

    def __init__(self, data: PreparedDataset, batches: list[np.ndarray]) -> None:
        self.data = data
        self.batches = batches

    def __len__(self) -> int:
        return len(self.batches)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        return self.read(self.batches[i])

    def read(self, index: np.ndarray) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``(x, lengths, labels)`` of these samples, frames cut at the longest one."""
        lengths = self.data.lengths[index]
        frames = max(1, int(lengths.max()))
        x = np.stack([self.data.joints[j, :, :frames] for j in index]).astype(np.float32)
        if not np.isfinite(x).all():
            bad = int(index[np.flatnonzero(~np.isfinite(x).reshape(len(x), -1).all(axis=1))[0]])
            raise DatasetError(f"{self.data.path}: sample {bad} ({self.data.names[bad]}) holds "
                               "non-finite coordinates; prepare the dataset again")
        return (torch.from_numpy(x), torch.from_numpy(lengths.astype(np.int64)),
                torch.from_numpy(self.data.labels[index].astype(np.int64)))


def loader_workers(requested: int | None, device: torch.device) -> int:
    """Reader processes: as requested, else none on CPU (reading a batch takes milliseconds
    and extra processes would take cores from the model) and up to 4 beside a GPU."""
    if requested is not None:
        return requested
    return 0 if device.type == "cpu" else min(4, os.cpu_count() or 1)


def batch_loader(data: PreparedDataset, batches: list[np.ndarray], workers: int = 0,
                 pin_memory: bool = False) -> DataLoader:
    """A DataLoader yielding the given batches in order, read by ``workers`` processes (one
    pass of an ``EpochLoader``)."""
    return EpochLoader(data, workers, pin_memory).epoch(batches)


class _CurrentBatches(Sampler[np.ndarray]):
    """The index arrays of the epoch being read (iterated in the main process)."""

    def __init__(self) -> None:
        self.batches: list[np.ndarray] = []

    def __iter__(self) -> Iterator[np.ndarray]:
        return iter(self.batches)

    def __len__(self) -> int:
        return len(self.batches)


class _ReadIndex(Dataset):
    """Item ``index`` (an array of sample indices) is that batch, as ``BatchReader.read``."""

    def __init__(self, data: PreparedDataset) -> None:
        self.reader = BatchReader(data, [])

    def __getitem__(self, index: np.ndarray) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        return self.reader.read(index)


class EpochLoader:
    """Reads each epoch's batches with reader processes started once for the whole run: on a
    GPU a short epoch (NW-UCLA's is 15 steps) would otherwise spend a large share of its time
    starting them again."""

    def __init__(self, data: PreparedDataset, workers: int = 0, pin_memory: bool = False
                 ) -> None:
        self._batches = _CurrentBatches()
        self._loader = DataLoader(_ReadIndex(data), sampler=self._batches, batch_size=None,
                                  num_workers=workers, pin_memory=pin_memory,
                                  persistent_workers=workers > 0,
                                  prefetch_factor=4 if workers else None)

    def epoch(self, batches: list[np.ndarray]) -> DataLoader:
        """A loader yielding ``batches`` in order (the previous epoch must be read out)."""
        self._batches.batches = batches
        return self._loader

