"""The spill: sequences read from many files wait on disk, not in memory, until written."""

import sys
from pathlib import Path

import numpy as np
import pytest

from conftest import NTU_SAMPLES, needs_ntu
from skelssl.data.prepare import PrepareOptions, prepare
from skelssl.data.readers.ntu import read_ntu
from skelssl.data.sequence import Sequence
from skelssl.data.spill import Spill
from skelssl.errors import SampleError


def on_disk(array: np.ndarray) -> bool:
    """True when ``array`` is a view of a memory-mapped file."""
    base = array
    while base is not None:
        if isinstance(base, np.memmap):
            return True
        base = base.base
    return False


def test_kept_joints_equal_the_originals_across_chunk_boundaries(tmp_path):
    rng = np.random.default_rng(0)
    spill = Spill(tmp_path, chunk_bytes=1000)  # a few sequences per chunk, one larger than it
    shapes = [(1, 5, 3, 3), (2, 7, 3, 3), (1, 40, 3, 3), (1, 1, 3, 2), (2, 3, 3, 3)]
    originals = [rng.normal(size=shape) for shape in shapes]
    kept = [spill.keep(joints) for joints in originals]
    for joints, copy in zip(originals, kept, strict=True):
        assert copy.dtype == np.float32 and copy.shape == joints.shape
        np.testing.assert_array_equal(copy, joints.astype(np.float32))
        assert on_disk(copy)
    assert spill.bytes == sum(j.size * 4 for j in originals)
    assert list(tmp_path.iterdir()) == []  # unlinked files: nothing to clean up, ever


def test_hold_moves_sequences_and_passes_everything_else():
    spill = Spill()
    one = Sequence("a", np.ones((1, 2, 3, 3)), 0)
    many = [Sequence("b", np.zeros((1, 4, 3, 3)), 1), Sequence("c", np.ones((1, 1, 3, 3)), 2)]
    error = SampleError("f.skeleton", "broken")
    assert spill.hold(one) is one and on_disk(one.joints)
    assert spill.hold(many) is many and all(on_disk(s.joints) for s in many)
    assert spill.hold(None) is None and spill.hold(error) is error
    np.testing.assert_array_equal(many[0].joints, np.zeros((1, 4, 3, 3)))


@pytest.mark.skipif(not Path("/proc/self/status").is_file() or sys.platform != "linux",
                    reason="reads the process's anonymous memory from /proc")
def test_kept_joints_leave_anonymous_memory(tmp_path):
    """64 MB of sequences kept: the process's anonymous memory grows by far less (without the
    spill it would grow by all of it)."""

    def anonymous_mb() -> float:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("RssAnon:"):
                return int(line.split()[1]) / 1024
        raise AssertionError("no RssAnon line")

    spill = Spill(tmp_path)
    before = anonymous_mb()
    kept = [spill.keep(np.full((1, 1000, 25, 3), float(i), np.float32)) for i in range(220)]
    grown = anonymous_mb() - before
    assert sum(k.nbytes for k in kept) > 64e6
    assert grown < 16, f"anonymous memory grew by {grown:.0f} MB"
    assert kept[219][0, 0, 0, 0] == 219.0


@needs_ntu
def test_prepare_through_the_spill_writes_what_the_reader_reads(tmp_path):
    reference, _ = read_ntu(NTU_SAMPLES, 60, workers=1)  # in memory
    out, _ = prepare("ntu60", tmp_path / "ntu", PrepareOptions(raw=NTU_SAMPLES, workers=2,
                                                               skip_damaged=True))
    joints = np.load(out / "joints.npy", mmap_mode="r")
    assert len(joints) == len(reference.sequences)
    for row, seq in zip(joints, reference.sequences, strict=True):
        persons, frames = seq.joints.shape[:2]
        np.testing.assert_array_equal(row[:, :frames, :, :persons],
                                      np.transpose(seq.joints, (3, 1, 2, 0)))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ntu"]
