"""The npy, CTR-GCN npz and bring-your-own npz readers, on files written here."""

import pickle

import numpy as np
import pytest

from skelssl.data.readers.ctrgcn_npz import read_ctrgcn_npz
from skelssl.data.readers.custom import read_custom
from skelssl.data.readers.npy import read_npy
from skelssl.data.readers.padded import load_labels, valid_length
from skelssl.errors import PrepareError


def padded(n=3, t=6, v=25, m=2, seed=0):
    """(N, C, T, V, M) with sample i valid for t - i frames, person 2 only in sample 0."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 3, t, v, m)).astype(np.float32)
    for i in range(n):
        x[i, :, t - i:] = 0
        if i:
            x[i, ..., 1] = 0
    return x


def test_npy_with_pickled_names_and_a_test_part(tmp_path):
    x = padded()
    np.save(tmp_path / "train.npy", x)
    np.save(tmp_path / "test.npy", x[:2])
    with (tmp_path / "train.pkl").open("wb") as f:
        pickle.dump((["a", "b", "c"], [4, 0, 59]), f)
    np.save(tmp_path / "test_labels.npy", np.array([1, 2]))
    dataset, damaged = read_npy(tmp_path / "train.npy", tmp_path / "train.pkl",
                                tmp_path / "test.npy", tmp_path / "test_labels.npy")
    assert not damaged and dataset.layout.name == "ntu25"
    assert [s.name for s in dataset.sequences] == ["a", "b", "c", "test_000000", "test_000001"]
    assert [s.num_frames for s in dataset.sequences] == [6, 5, 4, 6, 5]
    assert dataset.splits["default"] == {"train": [0, 1, 2], "test": [3, 4]}
    assert len(dataset.class_names) == 60 and dataset.class_names[0] == "drink water"
    np.testing.assert_array_equal(dataset.sequences[1].joints, x[1, :, :5].transpose(3, 1, 2, 0))


def test_all_zero_sample_is_damaged_and_wrong_label_count_is_an_error(tmp_path):
    x = padded()
    x[2] = 0
    np.save(tmp_path / "d.npy", x)
    np.save(tmp_path / "l.npy", np.array([0, 1, 2]))
    dataset, damaged = read_npy(tmp_path / "d.npy", tmp_path / "l.npy")
    assert len(dataset.sequences) == 2 and "0 frames" in str(damaged[0])
    np.save(tmp_path / "l2.npy", np.array([0, 1]))
    with pytest.raises(PrepareError, match=r"labels of shape \(2,\) for 3 samples"):
        read_npy(tmp_path / "d.npy", tmp_path / "l2.npy")


def test_label_pickle_refuses_code(tmp_path):
    path = tmp_path / "evil.pkl"
    with path.open("wb") as f:
        pickle.dump((["a"], [print]), f)
    with pytest.raises(PrepareError, match="refusing to load builtins.print"):
        load_labels(path)


def test_ctrgcn_npz(tmp_path):
    x = padded(n=4)  # (N, C, T, V, M) -> (N, T, M*V*C)
    flat = x.transpose(0, 2, 4, 3, 1).reshape(4, 6, 150)
    onehot = np.eye(60)[[3, 1, 4, 1]]
    np.savez(tmp_path / "NTU60_CS.npz", x_train=flat[:3], y_train=onehot[:3], x_test=flat[3:],
             y_test=onehot[3:])
    dataset, damaged = read_ctrgcn_npz(tmp_path / "NTU60_CS.npz", benchmark="xsub")
    assert not damaged and dataset.splits == {"xsub": {"train": [0, 1, 2], "test": [3]}}
    assert [s.label for s in dataset.sequences] == [3, 1, 4, 1]
    np.testing.assert_array_equal(dataset.sequences[2].joints, x[2, :, :4].transpose(3, 1, 2, 0))
    np.savez(tmp_path / "bad.npz", x_train=flat[:3])
    with pytest.raises(PrepareError, match="missing arrays"):
        read_ctrgcn_npz(tmp_path / "bad.npz")


def test_custom_padded_with_yaml_layout_and_split(tmp_path):
    (tmp_path / "arm.yaml").write_text(
        "name: arm\ncenter: shoulder\njoints:\n  - [shoulder, null]\n  - [elbow, shoulder]\n"
        "  - [wrist, elbow]\n")
    joints = np.ones((3, 5, 3, 2), np.float32)  # (N, T, V, C): 2-D data
    np.savez(tmp_path / "mine.npz", joints=joints, lengths=np.array([5, 2, 1]),
             labels=np.array([0, 1, 1]), class_names=np.array(["reach", "rest"]),
             split=np.array(["train", "test", "train"]), layout="arm.yaml")
    dataset, damaged = read_custom(tmp_path / "mine.npz")
    assert not damaged and dataset.layout.name == "arm"
    assert [s.num_frames for s in dataset.sequences] == [5, 2, 1]
    assert dataset.splits["default"] == {"train": [0, 2], "test": [1]}
    assert dataset.class_names == ["reach", "rest"]
    assert dataset.sequences[0].joints.shape == (1, 5, 3, 2)


def test_custom_variable_length_sequences_and_errors(tmp_path):
    seqs = np.empty(2, dtype=object)
    seqs[0] = np.ones((4, 20, 3))
    seqs[1] = np.full((1, 20, 3), np.inf)
    np.savez(tmp_path / "v.npz", sequences=seqs, labels=np.array([0, 0]))
    with pytest.raises(PrepareError, match="holds pickled objects; unpickling runs code"):
        read_custom(tmp_path / "v.npz")
    dataset, damaged = read_custom(tmp_path / "v.npz", allow_pickle=True)
    assert dataset.layout.name == "ucla20" and len(dataset.sequences) == 1
    assert "expected finite coordinates" in str(damaged[0]) and "sequence 1" in str(damaged[0])
    np.savez(tmp_path / "w.npz", joints=np.ones((2, 3, 7, 3)), labels=np.array([0, 1]))
    with pytest.raises(PrepareError, match="7 joints per frame matches no built-in 3-D skeleton"):
        read_custom(tmp_path / "w.npz")
    np.savez(tmp_path / "x.npz", joints=np.ones((2, 3, 25, 3)), labels=np.array([0, 1]),
             extra=np.ones(1))
    with pytest.raises(PrepareError, match=r"unknown arrays \['extra'\]"):
        read_custom(tmp_path / "x.npz")


def test_valid_length_is_the_last_nonzero_frame():
    x = np.zeros((2, 9, 25, 3))
    x[1, 4, 3, 0] = 0.5
    x[0, 1] = 1
    assert valid_length(x) == 5 and valid_length(np.zeros((1, 3, 25, 3))) == 0
