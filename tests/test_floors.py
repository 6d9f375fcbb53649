"""benchmarks/floors.py: random-weight floors of one config under different overrides."""

import importlib.util
import sys
from pathlib import Path

import yaml

from conftest import tiny_config

BENCHMARKS = Path(__file__).parents[1] / "benchmarks"


def test_each_override_gets_its_own_random_runs(tmp_path, prepared_synthetic, fast_preset,
                                                monkeypatch):
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    spec = importlib.util.spec_from_file_location("floors", BENCHMARKS / "floors.py")
    floors = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "floors", floors)
    spec.loader.exec_module(floors)
    config = tmp_path / "configs" / "tiny.yaml"
    config.parent.mkdir()
    config.write_text(yaml.safe_dump(tiny_config(prepared_synthetic)))
    runs = tmp_path / "runs"
    motion = floors.random_floor(config, ["method.stream=motion"], [0], runs, fast_preset, 1)
    bone = floors.random_floor(config, ["method.stream=bone"], [0], runs, fast_preset, 1)
    assert {stream for stream, _ in motion} == {"motion"}
    assert {stream for stream, _ in bone} == {"bone"}
    assert len(list(runs.iterdir())) == 2
