"""The bring-your-own .npz with several benchmarks, metadata columns, metadata rules and a
joint order onto a layout."""

import numpy as np
import pytest
import yaml

from skelssl.data.dataset import PreparedDataset
from skelssl.data.prepare import PrepareOptions, joint_order_index, prepare
from skelssl.errors import PrepareError
from skelssl.skeleton import COCO17, UCLA20


def write(tmp_path, **extra):
    rng = np.random.default_rng(0)
    joints = rng.normal(size=(6, 5, 20, 3)).astype(np.float32)
    np.savez(tmp_path / "d.npz", joints=joints, labels=np.array([0, 1, 0, 1, 0, 1]),
             layout="ucla20", **extra)
    return tmp_path / "d.npz", joints


def test_several_benchmarks_and_metadata_columns(tmp_path):
    path, _ = write(tmp_path, split_xsub=np.array(["train", "train", "test", "test", "", "train"]),
                    split=np.array(["train"] * 3 + ["test"] * 3),
                    meta_subject=np.array([1, 1, 2, 2, 3, 3]),
                    meta_view=np.array(["a", "b", "a", "b", "a", "b"]))
    out, _ = prepare("custom", tmp_path / "out", PrepareOptions(
        raw=path, rules=["views:view=a", "later:subject=2,3"]))
    data = PreparedDataset.open(out)
    assert data.splits["xsub"] == {"train": [0, 1, 5], "test": [2, 3]}
    assert data.splits["default"] == {"train": [0, 1, 2], "test": [3, 4, 5]}
    assert data.splits["views"] == {"train": [0, 2, 4], "test": [1, 3, 5]}
    assert data.splits["later"] == {"train": [2, 3, 4, 5], "test": [0, 1]}
    assert data.meta["samples"]["subject"] == [1, 1, 2, 2, 3, 3]
    assert data.meta["samples"]["view"] == ["a", "b", "a", "b", "a", "b"]
    with pytest.raises(PrepareError, match="no sample has metadata 'camera' \\(found: subject, "
                                           "view\\)"):
        prepare("custom", tmp_path / "bad", PrepareOptions(raw=path, rules=["x:camera=1"]))
    path, _ = write(tmp_path, split_xsub=np.array(["train"] * 5 + ["val"]))
    with pytest.raises(PrepareError, match="'split_xsub' must hold 6 entries"):
        prepare("custom", tmp_path / "bad2", PrepareOptions(raw=path))


def test_joint_order_by_names_or_permutation_puts_joints_in_the_layout_order(tmp_path):
    names = list(UCLA20.joint_names)
    file_order = names[10:] + names[:10]  # the file stores the last ten joints first
    path, joints = write(tmp_path)
    out, _ = prepare("custom", tmp_path / "named", PrepareOptions(
        raw=path, joint_order=",".join(file_order)))
    data = PreparedDataset.open(out)
    np.testing.assert_array_equal(np.asarray(data.joints[0, ..., 0]).transpose(1, 2, 0),
                                  np.concatenate([joints[0][:, 10:], joints[0][:, :10]], 1))
    permutation = ",".join(str(names.index(n) + 1) for n in file_order)
    out, _ = prepare("custom", tmp_path / "perm", PrepareOptions(raw=path,
                                                                 joint_order=permutation))
    np.testing.assert_array_equal(PreparedDataset.open(out).joints, data.joints)
    assert joint_order_index(",".join(names), UCLA20) == list(range(20))
    with pytest.raises(PrepareError, match="lists 19 joints; layout 'ucla20' has 20"):
        joint_order_index(",".join(names[:19]), UCLA20)
    with pytest.raises(PrepareError, match="expected a permutation of 1..20"):
        joint_order_index(",".join(["1"] * 20), UCLA20)
    with pytest.raises(PrepareError, match="missing 'head'"):
        joint_order_index(",".join([n if n != "head" else "nose" for n in names]), UCLA20)


def test_keypoints_with_a_confidence_from_the_flag_or_the_layout_file(tmp_path):
    rng = np.random.default_rng(1)
    joints = np.concatenate([rng.uniform(0, 900, (4, 5, 17, 2)),
                             rng.uniform(0.1, 1, (4, 5, 17, 1))], axis=-1).astype(np.float32)
    np.savez(tmp_path / "k.npz", joints=joints, labels=np.array([0, 1, 0, 1]))
    with pytest.raises(PrepareError, match="17 joints per frame matches no built-in 3-D"):
        prepare("custom", tmp_path / "plain", PrepareOptions(raw=tmp_path / "k.npz"))
    out, _ = prepare("custom", tmp_path / "flag", PrepareOptions(raw=tmp_path / "k.npz",
                                                                 scores=True))
    data = PreparedDataset.open(out)
    assert data.layout.name == "coco17" and data.layout.scores and data.channels == 3
    np.testing.assert_allclose(np.asarray(data.joints[2, 2, :5, :, 0]), joints[2, :, :, 2])
    spec = dict(COCO17.to_dict(), scores=True)
    (tmp_path / "scored.yaml").write_text(yaml.safe_dump(spec))
    out, _ = prepare("custom", tmp_path / "yaml", PrepareOptions(raw=tmp_path / "k.npz",
                                                                 layout=str(tmp_path /
                                                                            "scored.yaml")))
    assert PreparedDataset.open(out).layout.scores
