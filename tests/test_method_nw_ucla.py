"""benchmarks/method_nw_ucla.py: a pipeline's stage shared with another variant's finished run."""

import importlib.util
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).parents[1] / "benchmarks"


@pytest.fixture
def method_table(monkeypatch):
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    spec = importlib.util.spec_from_file_location("method_nw_ucla",
                                                  BENCHMARKS / "method_nw_ucla.py")
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "method_nw_ucla", module)
    spec.loader.exec_module(module)
    return module


def finished(runs: Path, name: str) -> Path:
    run = runs / name
    run.mkdir(parents=True)
    (run / "recipe.json").write_text("[]")
    return run


def test_a_shared_stage_links_the_finished_run_of_the_same_seed(method_table, tmp_path):
    for seed in (0, 1):
        finished(tmp_path, f"aimclr-seed{seed}")
    seeds = {"actclr": [0, 1], "aimclr": [0, 1]}
    method_table.share_stages(["actclr:aimclr=aimclr"], tmp_path, seeds)
    method_table.share_stages(["actclr:aimclr=aimclr"], tmp_path, seeds)  # again: no change
    for seed in (0, 1):
        stage = tmp_path / f"actclr-seed{seed}" / "aimclr"
        assert stage.is_symlink()
        assert stage.resolve() == (tmp_path / f"aimclr-seed{seed}").resolve()
        assert (stage / "recipe.json").is_file()


def test_an_unfinished_run_or_an_unknown_candidate_is_refused(method_table, tmp_path):
    finished(tmp_path, "aimclr-seed0")
    seeds = {"actclr": [0, 1], "aimclr": [0, 1]}
    with pytest.raises(SystemExit, match="aimclr-seed1 has not finished"):
        method_table.share_stages(["actclr:aimclr=aimclr"], tmp_path, seeds)
    with pytest.raises(SystemExit, match="expected NAME:STAGE=OTHER"):
        method_table.share_stages(["actclr=aimclr"], tmp_path, seeds)
    with pytest.raises(SystemExit, match="expected NAME:STAGE=OTHER"):
        method_table.share_stages(["isc:aimclr=aimclr"], tmp_path, seeds)
