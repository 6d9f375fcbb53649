"""benchmarks/quality_nw_ucla.py: which test-view candidates reach the leaderboard, and how."""

import json
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]


@pytest.fixture
def quality(monkeypatch, benchmark):
    monkeypatch.chdir(ROOT)  # configs are named relative to the repository root
    return benchmark("quality_nw_ucla")


def seed_row(candidate: str, config: str, overrides: list[str], seed: int, linear: float,
             nearest: float) -> dict:
    return {"candidate": candidate, "config": config, "overrides": overrides, "seed": seed,
            "test_linear": linear, "test_1nn": nearest, "pretrain_s": 100.0 + seed}


def stat(values: list[float]) -> dict:
    return {"mean": sum(values) / len(values), "std": None, "values": values}


@pytest.fixture
def results(tmp_path):
    """A results folder with the old page, the floors and two test pages."""
    stgcn, agcn = "configs/skeletonclr/nw-ucla.yaml", "configs/skeletonclr/nw-ucla-agcn.yaml"
    old = [{"variant": "SkeletonCLR-joint", "preset": "crrl-std", **stat([60.0])},
           {"variant": "SkeletonCLR-joint", "k": 1, **stat([55.0])}]
    floors = [{"config": stgcn, "stream": "joint", "variant": variant, **extra, **stat([value])}
              for variant, value in (("raw coordinates", 66.0), ("random weights", 50.0))
              for extra in ({"preset": "crrl-std"}, {"k": 1})]
    pages = {
        "skeletonclr-nw-ucla": old,
        "floors-nw-ucla": floors,
        "stgcn-test": [seed_row("warmup", stgcn, ["encoder.dropout=0", "train.warmup_epochs=10"],
                                seed, 70.0 + seed, 65.0) for seed in range(3)]
        + [seed_row("no-warmup", stgcn, ["train.warmup_epochs=0"], 0, 72.0, 60.0)],
        "agcn-test": [seed_row("agcn", agcn, ["train.warmup_epochs=3"], seed, 80.0, 78.0 + seed)
                      for seed in range(3)]
        + [{"floor": "random weights", "test_linear": stat([41.0]), "test_1nn": stat([40.0])}],
        "val-page": [{"candidate": "agcn", "config": agcn, "overrides": [], "val_linear": 1.0}],
    }
    for topic, rows in pages.items():
        (tmp_path / f"{topic}.json").write_text(json.dumps(rows))
    return tmp_path


def test_overrides_a_config_has_adopted_are_dropped(quality):
    config = "configs/skeletonclr/nw-ucla.yaml"
    assert quality.still_needed(config, ["encoder.dropout=0", "train.warmup_epochs=10"]) == []
    assert quality.still_needed(config, ["encoder.dropout=0", "train.warmup_epochs=0"]) == [
        "train.warmup_epochs=0"]


def test_chosen_candidates_reach_the_board_with_their_encoders_floor(quality, results):
    test = {topic: quality.rows_of(results, topic) for topic in ("stgcn-test", "agcn-test")}
    lines, rows = quality.method_lines(results, test, quality.METHODS[0], ["warmup", "agcn"])
    assert {(row["recipe"], row["config"], tuple(row["overrides"])) for row in rows} == {
        ("warmup", "configs/skeletonclr/nw-ucla.yaml", ()),
        ("agcn", "configs/skeletonclr/nw-ucla-agcn.yaml", ("train.warmup_epochs=3",))}
    agcn_linear = next(row for row in rows if row["recipe"] == "agcn"
                       and row["protocol"] == "linear")
    assert agcn_linear["mean"] == pytest.approx(80.0) and agcn_linear["seeds"] == [0, 1, 2]
    text = "\n".join(lines)
    assert "tried: no-warmup" in text and "**new**: agcn" in text
    assert "random weights of `configs/skeletonclr/nw-ucla-agcn.yaml` | 41.0" in text


def test_unknown_candidates_and_validation_pages_are_refused(quality, results):
    test = {"stgcn-test": quality.rows_of(results, "stgcn-test")}
    with pytest.raises(SystemExit, match="no such candidate"):
        quality.method_lines(results, test, quality.METHODS[0], ["agcn"])
    with pytest.raises(SystemExit, match="not a test-view page"):
        quality.method_lines(results, {"val-page": quality.rows_of(results, "val-page")},
                             quality.METHODS[0], [])
