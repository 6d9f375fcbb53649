"""Action retrieval: its scores by hand, and the protocol on a real (tiny) run."""

from __future__ import annotations

import subprocess
import sys

import pytest
import torch

from skelssl.eval.knn import knn_predict
from skelssl.eval.metrics import top1
from skelssl.eval.protocol import load_run, retrieval_eval, write_result
from skelssl.eval.retrieval import retrieval_scores


def test_scores_by_hand():
    # training set along the unit circle; labels a, b, a, b at angles 0, 30, 90, 180 degrees
    angles = torch.tensor([0.0, 30.0, 90.0, 180.0]) * torch.pi / 180
    train = torch.stack([angles.cos(), angles.sin()], dim=1)
    train_labels = torch.tensor([0, 1, 0, 1])
    test = torch.tensor([[1.0, 0.1], [0.0, 1.0]])  # near 0°; at 90°
    test_labels = torch.tensor([1, 1])
    # query 1 ranks 0°(a) 30°(b) 90°(a) 180°(b): relevant at 2, 4 → AP (1/2 + 2/4) / 2 = 0.5
    # query 2 ranks 90°(a) 30°(b) 0°(a) 180°(b): relevant at 2, 4 → AP 0.5
    scores = retrieval_scores(train, train_labels, test, test_labels, ks=(2,))
    assert scores["top1"] == 0.0 and scores["recall@1"] == 0.0
    assert scores["recall@2"] == 100.0
    assert abs(scores["map"] - 50.0) < 1e-9


def test_top1_is_one_nearest_neighbour_accuracy():
    g = torch.Generator().manual_seed(0)
    train, test = torch.randn(50, 8, generator=g), torch.randn(20, 8, generator=g)
    train_labels, test_labels = torch.randint(0, 4, (50,), generator=g), torch.randint(
        0, 4, (20,), generator=g)
    scores = retrieval_scores(train, train_labels, test, test_labels)
    nearest = knn_predict(train, train_labels, test, 1, 4)
    assert abs(scores["top1"] - top1(nearest, test_labels)) < 1e-4
    assert scores["recall@1"] <= scores["recall@5"] <= scores["recall@10"] <= 100


@pytest.mark.slow
def test_the_protocol_on_a_run(tiny_run):
    run = load_run(tiny_run)
    result = retrieval_eval(run, "joint")
    assert 0 <= result["map"] <= 100 and result["protocol"] == "retrieval"
    assert write_result(run, result).name == "retrieval-cosine-trained-joint.json"
    done = subprocess.run([sys.executable, "-m", "skelssl", "eval", "retrieval", str(tiny_run),
                           "--k", "3"], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0 and "recall@3" in done.stdout and "mAP" in done.stdout

