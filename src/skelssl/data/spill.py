"""Sequences read from many files, kept on disk instead of in memory until they are written.

Reading NTU-120 holds every sequence's joints (several GB) until the padded array is written.
A :class:`Spill` copies each sequence's joints, as it arrives, into memory-mapped temporary
files beside the output and hands back the sequence with its joints as a view of that file:
memory then holds about one sequence's worth of anonymous pages, and the kernel pages the rest
in and out like any file (tested in tests/data/test_spill.py, measured in
docs/results/scale-memory.md).
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import TypeVar

import numpy as np

from skelssl.data.sequence import Sequence

CHUNK_BYTES = 1 << 28  # each temporary file: 256 MiB, one memory map; sparse where unused

R = TypeVar("R")


class Spill:
    """Append-only store of float32 joints in unlinked temporary files under ``directory``
    (the system's temporary folder when None); the files vanish with the last view of them."""

    def __init__(self, directory: str | Path | None = None,
                 chunk_bytes: int = CHUNK_BYTES) -> None:
        self.directory = directory
        self.chunk_bytes = chunk_bytes
        self._chunk: np.memmap | None = None
        self._used = 0
        self.bytes = 0  # joints held so far

    def _room(self, size: int) -> np.memmap:
        """The current chunk, or a new one when ``size`` bytes no longer fit."""
        if self._chunk is None or self._used + size > self._chunk.size:
            with tempfile.TemporaryFile(dir=self.directory, prefix=".skelssl-spill-") as file:
                capacity = max(self.chunk_bytes, size)
                file.truncate(capacity)
                self._chunk = np.memmap(file, dtype=np.uint8, mode="r+", shape=(capacity,))
            self._used = 0
        return self._chunk

    def keep(self, joints: np.ndarray) -> np.ndarray:
        """``joints`` as float32, copied to disk; the returned array is a view of the file."""
        data = np.asarray(joints, dtype=np.float32)
        chunk = self._room(data.nbytes)
        start = self._used
        view = chunk[start:start + data.nbytes].view(np.float32).reshape(data.shape)
        view[...] = data
        self._used += -(-data.nbytes // 64) * 64  # keep every view 64-byte aligned
        self.bytes += data.nbytes
        return view

    def hold(self, result: R) -> R:
        """A reader's result with the joints of its sequence(s) on disk; anything else as is."""
        if isinstance(result, Sequence):
            result.joints = self.keep(result.joints)
        elif isinstance(result, list):
            for item in result:
                self.hold(item)
        return result
