"""Evaluation pictures: the class-balanced sample choice, t-SNE keeps clusters apart, and the
pictures are written (from arrays, from a run, from a results file)."""

import json

import numpy as np
import pytest
import torch
from PIL import Image

from skelssl.errors import EvalError
from skelssl.eval.plots import (
    balanced_subset,
    result_confusion,
    run_tsne,
    save_confusion_matrix,
    tsne_embedding,
)
from skelssl.eval.protocol import knn_eval, load_run, write_result


def test_balanced_subset_takes_evenly_from_each_class():
    labels = np.array([0] * 10 + [1] * 3 + [2] * 7)
    chosen = balanced_subset(labels, 9, seed=0)
    assert np.bincount(labels[chosen]).tolist() == [3, 3, 3]
    chosen = balanced_subset(labels, 12, seed=0)  # class 1 runs out: the others share the rest
    assert len(chosen) == 12 and len(set(chosen.tolist())) == 12
    assert np.bincount(labels[chosen]).tolist() in ([5, 3, 4], [4, 3, 5])
    assert np.all(np.diff(chosen) > 0)
    np.testing.assert_array_equal(balanced_subset(labels, 50), np.arange(20))


@pytest.mark.slow
def test_tsne_keeps_well_separated_clusters_apart():
    generator = torch.Generator().manual_seed(0)
    centres = torch.randn(3, 16, generator=generator)
    features = (centres.repeat_interleave(10, dim=0)
                + 0.05 * torch.randn(30, 16, generator=generator))
    labels = np.repeat(np.arange(3), 10)
    points = tsne_embedding(features, perplexity=30.0, seed=0)  # capped at (30 − 1) / 3
    assert points.shape == (30, 2)
    distances = np.linalg.norm(points[:, None] - points[None], axis=-1)
    np.fill_diagonal(distances, np.inf)
    assert np.all(labels[distances.argmin(axis=1)] == labels)
    with pytest.raises(EvalError, match="at least 5 samples"):
        tsne_embedding(features[:4])


def test_confusion_picture_is_written(tmp_path):
    matrix = np.array([[3, 1], [0, 4]])
    path = save_confusion_matrix(matrix, ["wave", "clap"], tmp_path / "sub" / "c.png", "t")
    with Image.open(path) as image:
        assert image.format == "PNG" and min(image.size) > 200


@pytest.fixture
def run_dir(tiny_run):
    return tiny_run


def test_tsne_of_a_run_and_confusion_of_its_result(run_dir):
    run = load_run(run_dir)
    picture = run_tsne(run, "joint", "test", max_points=20)
    assert picture == run_dir / "results" / "tsne-trained-joint-test.png"
    with Image.open(picture) as image:
        assert image.format == "PNG"
    with pytest.raises(EvalError, match="expected 'train' or 'test'"):
        run_tsne(run, "joint", "val")
    result = knn_eval(run, "joint", 1, 0.1)
    labels = run.data.labels[run.split("test")]
    # the per-class scores are the hand count of the predictions against the test labels
    for c, name in enumerate(run.data.class_names):
        mine = labels == c
        expected = 100.0 * np.mean(np.array(result["predictions"])[mine] == c)
        assert result["per_class_top1"][name] == pytest.approx(expected)
    path = write_result(run, result)
    assert result_confusion(path) == path.with_suffix(".png") and path.with_suffix(".png").is_file()
    ensemble = path.parent / "ensemble.json"
    ensemble.write_text(json.dumps({"protocol": "ensemble"}))
    with pytest.raises(EvalError, match="no 'predictions'"):
        result_confusion(ensemble)
