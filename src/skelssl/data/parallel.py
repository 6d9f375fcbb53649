"""Map a reader over many files on all cores, with a progress bar and per-file errors."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from multiprocessing import get_context
from typing import Generic, TypeVar

from tqdm import tqdm

from skelssl.data.spill import Spill
from skelssl.errors import SampleError

T = TypeVar("T")
R = TypeVar("R")


def _call(fn: Callable[[T], R], item: T) -> R | SampleError:
    try:
        return fn(item)
    except SampleError as error:
        return error


class _Bound(Generic[T, R]):
    """Picklable ``item -> _call(fn, item)`` for worker processes."""

    def __init__(self, fn: Callable[[T], R]) -> None:
        self.fn = fn

    def __call__(self, item: T) -> R | SampleError:
        return _call(self.fn, item)


def _same(result: R) -> R:
    return result


def default_workers() -> int:
    """Number of cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def map_files(fn: Callable[[T], R], items: Iterable[T], workers: int | None = None,
              desc: str = "reading", spill: Spill | None = None) -> list[R | SampleError]:
    """``[fn(item) for item in items]`` in order, on ``workers`` processes (all cores by default).

    A :class:`SampleError` raised for one item is returned in its place so the caller can list
    every damaged file at once; any other exception stops the whole map. With a ``spill``, the
    joints of each sequence returned move to disk as it arrives (:class:`Spill`).
    """
    keep = spill.hold if spill is not None else _same
    items = list(items)
    workers = min(workers or default_workers(), max(len(items), 1))
    bar = tqdm(total=len(items), desc=desc, unit="file", disable=None, dynamic_ncols=True)
    with bar:
        if workers <= 1:
            results = []
            for item in items:
                results.append(keep(_call(fn, item)))
                bar.update()
            return results
        chunk = max(1, min(64, len(items) // (workers * 8)))
        with get_context("fork" if os.name == "posix" else "spawn").Pool(workers) as pool:
            results = []
            for result in pool.imap(_Bound(fn), items, chunksize=chunk):
                results.append(keep(result))
                bar.update()
            return results
