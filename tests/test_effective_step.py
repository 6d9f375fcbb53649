"""benchmarks/effective_step.py: the angle and norm ratio between initial and trained weights."""

import importlib
from pathlib import Path

import pytest
import torch

BENCHMARKS = Path(__file__).parents[1] / "benchmarks"


def test_turn_measures_the_angle_and_the_norm_ratio_of_each_layer(monkeypatch):
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    effective_step = importlib.import_module("effective_step")
    start = {"scaled": torch.tensor([1.0, 2.0, 0.0]).view(1, 3, 1, 1).double(),
             "turned": torch.tensor([1.0, 0.0, 0.0]).view(1, 3, 1, 1).double()}
    now = {"scaled": 3 * start["scaled"],
           "turned": torch.tensor([1.0, 1.0, 0.0]).view(1, 3, 1, 1).double()}
    moved = effective_step.turn(start, now)
    assert moved["angle"] == pytest.approx([0.0, 45.0], abs=1e-4)
    assert moved["norm_ratio"] == pytest.approx([3.0, 2 ** 0.5])
