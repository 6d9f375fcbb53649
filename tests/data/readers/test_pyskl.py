"""pyskl annotation pickles: 2-D COCO keypoints, splits, scores — and no code is ever run."""

import os
import pickle

import numpy as np
import pytest

from skelssl.data.dataset import PreparedDataset
from skelssl.data.prepare import PrepareOptions, prepare
from skelssl.data.readers.pyskl import read_pyskl
from skelssl.data.summary import summarize
from skelssl.errors import PrepareError


def annotation(name, label, frames=6, persons=1, joints=17, seed=0):
    rng = np.random.default_rng(seed)
    keypoint = rng.uniform(100, 900, size=(persons, frames, joints, 2)).astype(np.float16)
    score = rng.uniform(0.2, 1.0, size=(persons, frames, joints)).astype(np.float16)
    return {"frame_dir": name, "label": label, "img_shape": (1080, 1920),
            "total_frames": frames, "keypoint": keypoint, "keypoint_score": score}


def write(path, content):
    with path.open("wb") as f:
        pickle.dump(content, f)
    return path


def test_keypoints_become_a_2d_coco_dataset_with_pyskl_splits(tmp_path):
    records = [annotation(f"clip{i}", i % 3, frames=5 + i, seed=i) for i in range(6)]
    records[2]["keypoint_score"][0, 1, 4] = 0  # an undetected keypoint
    path = write(tmp_path / "ann.pkl", {
        "split": {"xsub_train": ["clip0", "clip1", "clip2", "clip3"], "xsub_val": ["clip4",
                                                                                 "clip5"],
                  "train": ["clip0"], "val": ["clip5"]},
        "annotations": records})
    out, _ = prepare("pyskl", tmp_path / "out", PrepareOptions(raw=path))
    data = PreparedDataset.open(out, verify=True)
    assert data.channels == 2 and data.layout.name == "coco17"
    assert data.splits["xsub"] == {"train": [0, 1, 2, 3], "test": [4, 5]}
    assert data.splits["default"] == {"train": [0], "test": [5]}
    assert list(data.labels) == [0, 1, 2, 0, 1, 2] and list(data.lengths) == [5, 6, 7, 8, 9, 10]
    got = np.asarray(data.joints[2, :, :7, :, 0]).transpose(1, 2, 0)
    expected = records[2]["keypoint"][0].astype(np.float32)
    expected[1, 4] = 0
    np.testing.assert_allclose(got, expected)
    assert any("joints per frame were read in the order of the built-in layout 'coco17'" in n
               for n in data.meta["notes"])


def test_a_pickle_that_would_run_code_is_refused(tmp_path):
    class Exploit:
        def __reduce__(self):
            return os.system, ("touch " + str(tmp_path / "pwned"),)

    path = write(tmp_path / "bad.pkl", {"annotations": [Exploit()], "split": {}})
    with pytest.raises(PrepareError, match="bad.pkl: not a pyskl annotation pickle"):
        read_pyskl(path)
    assert not (tmp_path / "pwned").exists()


def test_damaged_annotations_and_splits_are_named(tmp_path):
    good = annotation("a", 0)
    bad = annotation("b", 1)
    bad["keypoint_score"] = bad["keypoint_score"][:, :3]
    data, damaged = read_pyskl(write(tmp_path / "x.pkl", {"annotations": [good, bad],
                                                           "split": {}}))
    assert [s.name for s in data.sequences] == ["a"]
    assert "annotation 1 (b): 'keypoint_score' has shape (1, 3, 17)" in str(damaged[0])
    path = write(tmp_path / "y.pkl", {"annotations": [good], "split": {"xsub_train": ["zz"]}})
    with pytest.raises(PrepareError, match="split 'xsub_train' names 'zz'"):
        read_pyskl(path)
    path = write(tmp_path / "z.pkl", {"annotations": [annotation("a", 0, joints=20)]})
    with pytest.raises(PrepareError, match="20 joints per frame matches no built-in 2-D "
                                           "keypoint layout; pass --layout"):
        read_pyskl(path)
    path = write(tmp_path / "z.pkl", {"annotations": [annotation("a", 0, joints=25)]})
    assert read_pyskl(path)[0].layout.name == "body25"  # 2-D: OpenPose's, not ntu25
    assert read_pyskl(path, layout="ntu25")[0].layout.name == "ntu25"


def test_scores_keeps_the_confidence_as_a_last_channel(tmp_path):
    records = [annotation(f"clip{i}", i % 2, seed=i) for i in range(4)]
    records[1]["keypoint_score"][0, 2, 3] = 0  # undetected: position and confidence zero
    path = write(tmp_path / "ann.pkl", {"split": {"xsub_train": ["clip0", "clip1"],
                                                  "xsub_val": ["clip2", "clip3"]},
                                        "annotations": records})
    out, _ = prepare("pyskl", tmp_path / "out", PrepareOptions(raw=path, scores=True))
    data = PreparedDataset.open(out, verify=True)
    assert data.channels == 3 and data.layout.scores and data.layout.coordinates(3) == 2
    assert "2 coordinates + confidence" in summarize(data)
    got = np.asarray(data.joints[1, :, :6, :, 0]).transpose(1, 2, 0)  # (T, V, C)
    np.testing.assert_allclose(got[..., 2], records[1]["keypoint_score"][0].astype(np.float32))
    np.testing.assert_allclose(got[2, 3], 0)
    np.testing.assert_allclose(got[0, :, :2], records[1]["keypoint"][0, 0].astype(np.float32))


def test_scores_without_keypoint_score_names_the_annotation(tmp_path):
    records = [annotation("clip0", 0), annotation("clip1", 1)]
    del records[1]["keypoint_score"]
    path = write(tmp_path / "ann.pkl", {"annotations": records, "split": {}})
    dataset, damaged = read_pyskl(path, scores=True)
    assert len(dataset.sequences) == 1 and len(damaged) == 1
    assert "annotation 1 (clip1)" in str(damaged[0]) and "keypoint_score" in str(damaged[0])
