"""benchmarks/finetune_nw_ucla.py: labelled fractions over several draws, on its own page."""

import json
import shutil
import statistics
import sys


def test_each_run_counts_the_mean_of_its_draws(tmp_path, tiny_run, monkeypatch, benchmark):
    module = benchmark("finetune_nw_ucla")
    run = tmp_path / "tiny-seed0"
    shutil.copytree(tiny_run, run, ignore=shutil.ignore_patterns("finetune", "results"))
    monkeypatch.setattr(sys, "argv", [
        "finetune_nw_ucla.py", f"Tiny={run}", "--preset", "isc", "--fractions", "0.5",
        "--draws", "2", "--epochs", "1", "--topic", "semi-tiny", "--out", str(tmp_path)])
    module.main()
    rows = json.loads((tmp_path / "semi-tiny.json").read_text())
    trained = next(row for row in rows if row["weights"] == "trained")
    draws = [json.loads(path.read_text())["top1"] for path in
             sorted((run / "results").glob("finetune-isc-trained-joint-50pct-draw*.json"))]
    assert trained["draws"] == 2 and len(draws) == 2
    assert abs(trained["mean"] - statistics.mean(draws)) < 0.006  # the page rounds to 0.01
    assert "Adam lr 0.0001" in (tmp_path / "semi-tiny.md").read_text()
