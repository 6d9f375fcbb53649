"""Regressions for damaged and surprising raw data: nothing runs code, nothing is silently lost,
every bad input is one error naming its file (and sample), and what the user should know about
how data was read is said in notes."""

from __future__ import annotations

import os
import pickle

import numpy as np
import pytest

from conftest import write_skeleton
from skelssl.data.prepare import PrepareOptions, prepare, remove_stale
from skelssl.data.readers.custom import read_custom
from skelssl.data.readers.ntu import read_bodies
from skelssl.data.readers.padded import check_labels, load_labels
from skelssl.errors import PrepareError, SampleError


class Boom:
    """Unpickling this runs code: what a hostile data file would do."""

    def __reduce__(self):
        return (os.system, ("echo pwned > /dev/null",))


def test_a_pickle_in_a_custom_npz_is_never_unpickled_by_default(tmp_path):
    hostile = np.empty(1, dtype=object)
    hostile[0] = Boom()
    np.savez(tmp_path / "evil.npz", sequences=hostile, labels=np.array([0]))
    with pytest.raises(PrepareError, match="evil.npz: holds pickled objects; unpickling runs"):
        read_custom(tmp_path / "evil.npz")
    (tmp_path / "renamed.npz").write_bytes(pickle.dumps(Boom()))
    with pytest.raises(PrepareError, match="renamed.npz: "):
        read_custom(tmp_path / "renamed.npz")


def test_the_label_unpickler_allows_numpy_arrays_but_no_other_numpy_code(tmp_path):
    good = tmp_path / "good.pkl"
    good.write_bytes(pickle.dumps((["a", "b"], np.array([1, 0]))))
    names, labels = load_labels(good)
    assert names == ["a", "b"] and labels.tolist() == [1, 0]
    bad = tmp_path / "bad.pkl"
    bad.write_bytes(pickle.dumps((["a"], [np.testing.assert_equal])))
    with pytest.raises(PrepareError, match="refusing to load numpy.testing"):
        load_labels(bad)


def test_variable_lengths_without_pickle_frames_and_lengths(tmp_path):
    frames = np.random.default_rng(0).normal(size=(9, 20, 3)).astype(np.float32)
    np.savez(tmp_path / "v.npz", frames=frames, lengths=np.array([4, 5]),
             labels=np.array([0, 1]), layout="ucla20")
    dataset, damaged = read_custom(tmp_path / "v.npz")
    assert not damaged and [s.num_frames for s in dataset.sequences] == [4, 5]
    np.testing.assert_array_equal(dataset.sequences[1].joints[0], frames[4:])
    np.savez(tmp_path / "w.npz", frames=frames, lengths=np.array([4, 4]), labels=np.array([0, 1]))
    with pytest.raises(PrepareError, match="'lengths' sum to 8 frames .* 'frames' holds 9"):
        read_custom(tmp_path / "w.npz")


@pytest.mark.parametrize("value", ["inf", "-inf", "nan", "1e39", "1e308", "250.0"])
def test_a_non_finite_or_absurd_ntu_coordinate_is_damage_not_zeros(tmp_path, value):
    body = np.full((25, 3), 0.5)
    path = write_skeleton(tmp_path / "S001C001P001R001A001.skeleton", [[body], [body]])
    lines = path.read_text().split("\n")
    joint = lines[4].split()
    joint[1] = value
    lines[4] = " ".join(joint)
    path.write_text("\n".join(lines))
    with pytest.raises(SampleError, match=r"frame 1 of 2, body 1 of 1, joint 1: y = "):
        read_bodies(path)


@pytest.mark.parametrize("count", ["nan", "inf", "1e400", "2.5"])
def test_a_damaged_ntu_count_names_the_file(tmp_path, count):
    body = np.full((25, 3), 0.5)
    path = write_skeleton(tmp_path / "S001C001P001R001A001.skeleton", [[body]])
    lines = path.read_text().split("\n")
    lines[1] = count  # the first frame's body count
    path.write_text("\n".join(lines))
    with pytest.raises(SampleError, match=r"S001C001P001R001A001.skeleton: frame 1 of 1: "
                                          r"expected a body count"):
        read_bodies(path)


def test_labels_as_a_column_keep_their_classes_and_a_huge_label_is_an_error():
    assert check_labels(np.array([[2], [0], [1]]), 3, "l").tolist() == [2, 0, 1]
    with pytest.raises(PrepareError, match=r"l: label 10000000 of sample 1 is outside 0..999"):
        check_labels(np.array([0, 10_000_000, 1]), 3, "l")
    with pytest.raises(PrepareError, match="label 5 of sample 0 is outside 0..2: given 3 class"):
        check_labels(np.array([5, 0]), 2, "l", num_classes=3)
    with pytest.raises(PrepareError, match=r"labels of shape \(2, 3\) are not one-hot rows"):
        check_labels(np.array([[0.2, 0.5, 0.3], [1, 0, 0]]), 2, "l")
    with pytest.raises(PrepareError, match="label nan of sample 1: expected integer"):
        check_labels(np.array([0.0, np.nan]), 2, "l")


def test_a_damaged_npz_is_one_error_naming_the_file(tmp_path):
    np.savez(tmp_path / "ok.npz", joints=np.ones((2, 4, 20, 3)), labels=np.array([0, 1]))
    data = (tmp_path / "ok.npz").read_bytes()
    (tmp_path / "cut.npz").write_bytes(data[: len(data) // 2])
    with pytest.raises(PrepareError, match=r"cut.npz: not a readable .npz"):
        read_custom(tmp_path / "cut.npz")


def test_bring_your_own_data_says_what_it_assumed(tmp_path):
    joints = np.random.default_rng(0).normal(size=(3, 6, 20, 3)).astype(np.float32)
    joints[0, 2] = 0  # an untracked frame inside a sequence
    joints[2] = 0  # no person at all
    np.savez(tmp_path / "mine.npz", joints=joints, labels=np.array([1, 2, 1]),
             split=np.array(["test", "test", "test"]))
    out, _ = prepare("custom", tmp_path / "prepared",
                     PrepareOptions(raw=tmp_path / "mine.npz", skip_damaged=True))
    import json

    meta = json.loads((out / "meta.json").read_text())
    notes = " | ".join(meta["notes"])
    assert "no layout given: 20 joints per frame were read in the order of the built-in " \
           "layout 'ucla20'" in notes
    assert "class 0 is empty and the labels start at 1" in notes
    assert "1 sequences hold all-zero frames" in notes
    assert "benchmark default: the train split is empty" in notes
    assert meta["shape"]["N"] == 2 and "sample 2" in meta["skipped"][0]["file"]


def test_axes_in_another_order_are_named(tmp_path):
    np.savez(tmp_path / "vct.npz", joints=np.ones((2, 20, 3, 6)), labels=np.array([0, 1]),
             layout="ucla20")  # (N, V, C, T) instead of (N, T, V, C)
    with pytest.raises(PrepareError, match=r"'joints' of shape \(2, 20, 3, 6\) read as \(N, T, "
                                           r"V, C\): 3 joints per frame, but layout 'ucla20' "
                                           r"has 20 \(are the axes in another order\?\)"):
        read_custom(tmp_path / "vct.npz")
    frames = np.ones((2, 20, 3, 6))  # (M, V, C, T) per sequence
    np.savez(tmp_path / "seq.npz", frames=frames, lengths=np.array([5, 15]),
             labels=np.array([0, 1]), layout="ucla20")
    with pytest.raises(PrepareError, match=r"sequence 0 of shape \(2, 5, 3, 6\) read as "
                                           r"\(M, T, V, C\)"):
        read_custom(tmp_path / "seq.npz")


def test_an_interrupted_preparation_leaves_nothing_the_next_one_keeps(tmp_path):
    out = tmp_path / "data"
    dead = tmp_path / ".data.partial-999999999-abc"  # a process id that cannot be running
    alive = tmp_path / f".data.partial-{os.getpid()}-xyz"
    other = tmp_path / ".unrelated"
    for folder in (dead, alive, other):
        folder.mkdir()
    remove_stale(out)
    assert not dead.exists() and alive.exists() and other.exists()
