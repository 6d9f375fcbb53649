"""benchmarks/stream_agreement.py: disagreement between a method's streams, by hand."""

import json
import sys

import pytest
import torch

from conftest import tiny_config
from skelssl.config import load_config
from skelssl.engine.trainer import pretrain
from skelssl.eval.protocol import load_run, split_labels

WRONG = {"joint": [], "motion": [0, 1, 2], "bone": [2, 3]}  # test samples each stream misses


@pytest.fixture
def stream_runs(tmp_path, prepared_synthetic):
    """Untrained single-stream runs (joint, motion, bone) of seed 0."""
    for stream in WRONG:
        config = tiny_config(prepared_synthetic, train={"epochs": 0},
                             method={"stream": stream})
        pretrain(load_config(config), tmp_path / f"runs/{stream}-seed0", progress=False)
    return tmp_path / "runs"


def test_rates_follow_the_predictions(tmp_path, stream_runs, benchmark, monkeypatch):
    agreement = benchmark("stream_agreement")
    run = load_run(stream_runs / "joint-seed0")
    labels = split_labels(run, run.config.data.test_split)
    classes = run.data.num_classes

    def probe(run, stream, preset, progress):  # right except on the samples WRONG names
        predicted = labels.clone()
        predicted[WRONG[stream]] = (labels[WRONG[stream]] + 1) % classes
        return {"logits": torch.nn.functional.one_hot(predicted, classes).float()}

    monkeypatch.setattr(agreement, "linear_probe", probe)
    out = tmp_path / "out"
    monkeypatch.setattr(sys, "argv", ["stream_agreement.py", "--topic", "agree", "--out",
                                      str(out), "--method", f"M={stream_runs}/*-seed0"])
    agreement.main()
    rows = {(r["streams"], r["metric"]): r["mean"]
            for r in json.loads((out / "agree.json").read_text())}
    n = len(labels)
    assert rows[("joint", "right")] == pytest.approx(100.0)
    assert rows[("motion", "right")] == pytest.approx(100 * (n - 3) / n, abs=1e-3)
    assert rows[("bone–motion", "disagree")] == pytest.approx(100 * 3 / n, abs=1e-3)  # 0, 1, 3
    assert rows[("bone–motion", "both wrong")] == pytest.approx(100 * 1 / n, abs=1e-3)  # 2
    assert rows[("joint–motion", "both wrong")] == 0.0
    assert rows[("bone+joint+motion", "any right")] == pytest.approx(100.0)
    assert "| M | bone–motion | disagree |" in (out / "agree.md").read_text()


def test_a_stream_twice_in_one_seed_is_refused(stream_runs, benchmark):
    agreement = benchmark("stream_agreement")
    twice = [stream_runs / "joint-seed0", stream_runs / "joint-seed0"]
    with pytest.raises(SystemExit, match="two runs of stream 'joint' with seed 0"):
        agreement.method_rows("M", twice, "crrl-std")
