import ctypes
import resource
import sys

import pytest

from skelssl.engine import heap

LIBC = ctypes.CDLL(None) if sys.platform.startswith("linux") else None
glibc = pytest.mark.skipif(LIBC is None or not hasattr(LIBC, "gnu_get_libc_version"),
                           reason="the allocator tuning is for glibc on Linux")


def _page_faults() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


@glibc
def test_freed_large_blocks_are_reused_without_faulting_pages_in_again(monkeypatch):
    monkeypatch.delenv(heap.OPT_OUT, raising=False)
    malloc, free = LIBC.malloc, LIBC.free
    malloc.restype, malloc.argtypes = ctypes.c_void_p, [ctypes.c_size_t]
    free.argtypes = [ctypes.c_void_p]
    size = 64 << 20  # over glibc's largest mmap threshold: returned to the system by default
    assert heap.keep_freed_memory()
    faults = []
    for _ in range(4):
        before = _page_faults()
        block = malloc(size)
        ctypes.memset(block, 1, size)
        free(block)
        faults.append(_page_faults() - before)
    pages = size // resource.getpagesize()
    # the first use may fault its pages in (or reuse what earlier tests freed); later ones
    # reuse them, where glibc would otherwise map and fault in every page again
    assert sum(faults[1:]) < pages // 4


def test_opting_out_leaves_the_allocator_alone(monkeypatch):
    monkeypatch.setenv(heap.OPT_OUT, "1")
    assert not heap.keep_freed_memory()


def test_other_systems_are_left_alone(monkeypatch):
    monkeypatch.setattr(heap.sys, "platform", "darwin")
    assert not heap.keep_freed_memory()
