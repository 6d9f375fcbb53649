"""2-D keypoints end to end: the synthetic set projected through its cameras, prepared,
pretrained with view alignment in the image plane, and evaluated."""

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from conftest import tiny_config
from skelssl.cli import app
from skelssl.config import load_config
from skelssl.data.dataset import PreparedDataset
from skelssl.data.prepare import PrepareOptions, prepare
from skelssl.data.synthetic import FOCAL, IMAGE_SIZE, make_sample, project
from skelssl.engine.trainer import pretrain


def test_projection_is_the_pinhole_camera_and_keeps_absent_persons_zero():
    three = make_sample(17, seed=2)
    two = make_sample(17, seed=2, dims=2)
    x, y, z = (three.joints[0, :, :, i] for i in range(3))
    np.testing.assert_allclose(two.joints[0, :, :, 0], IMAGE_SIZE[0] / 2 - FOCAL * x / z,
                               rtol=1e-5)
    np.testing.assert_allclose(two.joints[0, :, :, 1], IMAGE_SIZE[1] / 2 - FOCAL * y / z,
                               rtol=1e-5)
    assert (two.joints[1] == 0).all() == (three.joints[1] == 0).all()
    assert (project(np.zeros((3, 3))) == 0).all()


@pytest.mark.parametrize("method", ["skeletonclr", "viewclr"])
def test_a_method_trains_and_evaluates_on_2d_keypoints(tmp_path, method):
    data, _ = prepare("synthetic", tmp_path / "syn2d", PrepareOptions(per_class=2, dims=2))
    assert PreparedDataset.open(data).channels == 2
    config = tiny_config(data, train={"epochs": 1, "milestones": []},
                         data={"path": str(data), "benchmark": "xsub", "frames": 12,
                               "workers": 0, "center": "frame", "align_view": True})
    if method == "viewclr":  # the camera turns in the image plane and shifts by 20 pixels
        config["method"] = {"name": "viewclr", "projection_dim": 8, "distance_unit": [20, 0, 0]}
    run = tmp_path / "run"
    pretrain(load_config(config), run, progress=False)
    metrics = [line.split(",") for line in (run / "metrics.csv").read_text().splitlines()]
    assert np.isfinite(float(metrics[1][2]))  # the loss of epoch 1
    result = CliRunner().invoke(app, ["eval", "knn", str(run), "--k", "1"])
    assert result.exit_code == 0, result.output
    score = json.loads((run / "results" / "knn-k1-trained-joint.json").read_text())
    assert 0 <= score["top1"] <= 100


def test_keypoints_with_their_confidence_train_and_evaluate(tmp_path):
    """pyskl keypoints with ``keypoint_score`` kept as a third channel: prepared, pretrained
    (SkeletonCLR: the shear moves x, y only) and evaluated with a C = 3 encoder."""
    import pickle

    rng = np.random.default_rng(0)
    records = []
    for i in range(16):
        sample = make_sample(100 * (i % 4), seed=i, dims=2)  # class i % 4
        score = rng.uniform(0.3, 1.0, sample.joints.shape[:3]) * (sample.joints != 0).any(-1)
        records.append({"frame_dir": f"clip{i}", "label": i % 4, "keypoint": sample.joints,
                        "keypoint_score": score.astype(np.float32)})
    path = tmp_path / "ann.pkl"
    path.write_bytes(pickle.dumps({"annotations": records, "split": {
        "xsub_train": [f"clip{i}" for i in range(12)],
        "xsub_val": [f"clip{i}" for i in range(12, 16)]}}))
    data, _ = prepare("pyskl", tmp_path / "scored", PrepareOptions(raw=path, layout="ntu25",
                                                                   scores=True))
    assert PreparedDataset.open(data).channels == 3
    config = tiny_config(data, train={"epochs": 1, "milestones": []},
                         data={"path": str(data), "benchmark": "xsub", "frames": 12,
                               "workers": 0, "center": "frame", "align_view": True})
    run = tmp_path / "run"
    pretrain(load_config(config), run, progress=False)
    result = CliRunner().invoke(app, ["eval", "knn", str(run), "--k", "1"])
    assert result.exit_code == 0, result.output
    score = json.loads((run / "results" / "knn-k1-trained-joint.json").read_text())
    assert 0 <= score["top1"] <= 100
    layout = json.loads((data / "meta.json").read_text())["layout"]
    assert layout["scores"] is True and layout["name"] == "ntu25"
