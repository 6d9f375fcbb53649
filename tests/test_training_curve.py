"""benchmarks/training_curve.py: linear / 1-NN of every snapshot, averaged over seeds."""

import json
import sys

import pytest

from conftest import tiny_config
from skelssl.config import load_config
from skelssl.engine.trainer import pretrain
from skelssl.eval.protocol import knn_eval, linear_probe, load_run


@pytest.fixture(scope="module")
def two_seeds(tmp_path_factory, prepared_synthetic):
    """Two seeds of two epochs each, keeping snapshots 0 and 1 (the final 2 only in encoder.pt)."""
    runs = tmp_path_factory.mktemp("runs")
    for seed in (0, 1):
        config = tiny_config(prepared_synthetic, train={"snapshot_epochs": [0, 1]}, seed=seed)
        pretrain(load_config(config), runs / f"tiny-seed{seed}", progress=False)
    return runs


@pytest.mark.slow
def test_page_has_every_epoch_of_every_seed(tmp_path, two_seeds, fast_preset, benchmark,
                                            monkeypatch):
    curve = benchmark("training_curve")
    out = tmp_path / "out"
    monkeypatch.setattr(sys, "argv", ["training_curve.py", "--family",
                                      f"tiny={two_seeds}/tiny-seed*", "--preset", fast_preset,
                                      "--topic", "curve", "--out", str(out)])
    curve.main()
    rows = json.loads((out / "curve.json").read_text())
    assert [(row["epoch"], row["probe"]) for row in rows] == [
        (epoch, probe) for epoch in (0, 1, 2) for probe in ("linear", "knn")]
    final = {row["probe"]: row["values"] for row in rows if row["epoch"] == 2}
    for index, seed in enumerate((0, 1)):
        run = load_run(two_seeds / f"tiny-seed{seed}")  # epoch 2: the final encoder.pt
        assert final["linear"][index] == pytest.approx(linear_probe(run, "joint", fast_preset)
                                                       ["top1"], abs=1e-3)
        assert final["knn"][index] == pytest.approx(knn_eval(run, "joint", 1, 0.1)["top1"],
                                                    abs=1e-3)
    assert "| tiny | 1 |" in (out / "curve.md").read_text()
    assert (out / "curve.png").stat().st_size > 10_000


@pytest.mark.slow
def test_a_run_with_several_encoders_gets_a_line_per_encoder(tmp_path, prepared_synthetic,
                                                            fast_preset, benchmark):
    curve = benchmark("training_curve")
    config = tiny_config(prepared_synthetic, train={"epochs": 1, "snapshot_epochs": [0]},
                         method={"name": "crossclr", "streams": ["joint", "motion"],
                                 "queue_size": 16, "projection_dim": 8, "momentum": 0.9})
    pretrain(load_config(config), tmp_path / "crossclr", progress=False)
    lines = curve.curves("CrosSCLR", [tmp_path / "crossclr"], fast_preset)
    assert list(lines) == ["CrosSCLR · joint", "CrosSCLR · motion"]
    assert all(list(points) == [0, 1] for points in lines.values())
    motion_final = load_run(tmp_path / "crossclr")
    assert lines["CrosSCLR · motion"][1]["knn"] == [pytest.approx(
        knn_eval(motion_final, "motion", 1, 0.1)["top1"], abs=1e-6)]


def test_a_run_without_snapshots_is_named(tiny_run, benchmark):
    curve = benchmark("training_curve")
    with pytest.raises(SystemExit, match="no snapshots; train it with train.snapshot_epochs"):
        curve.evaluated_weights(tiny_run)
