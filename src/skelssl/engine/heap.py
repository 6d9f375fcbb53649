"""Keep freed memory in the process between training steps.

glibc hands every block over its mmap threshold (at most 32 MiB) straight back to the system
when it is freed, and the next step maps it again and faults it in page by page. A training
step frees and re-allocates blocks of 50-100 MB (convolution workspaces, activations of a
batch) every time: measured on ViewCLR's NW-UCLA config, one thread, 27 % of the epoch went to
the kernel zeroing those pages. Serving large blocks from the heap and keeping up to 1 GiB free
at its top removes that work; the arithmetic is untouched, so training is exactly the same.
"""

from __future__ import annotations

import ctypes
import os
import sys

M_TRIM_THRESHOLD = -1  # glibc's mallopt parameters (malloc.h)
M_MMAP_MAX = -4
KEEP_FREE = 1 << 30  # the heap gives memory back only when more than this lies free at its top
OPT_OUT = "SKELSSL_SYSTEM_MALLOC"  # =1: leave the allocator as the system set it


def keep_freed_memory() -> bool:
    """Tune glibc's allocator for training (see the module docstring); returns whether it
    applied: not on other C libraries or systems, nor with ``SKELSSL_SYSTEM_MALLOC=1``."""
    if not sys.platform.startswith("linux") or os.environ.get(OPT_OUT) == "1":
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt  # the C library this process runs on
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    return bool(mallopt(M_MMAP_MAX, 0)) and bool(mallopt(M_TRIM_THRESHOLD, KEEP_FREE))
