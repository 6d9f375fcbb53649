"""The examples of docs/adding-a-method.md and docs/adding-an-encoder.md run as written: each is
registered, trained through the engine and evaluated from its run directory."""

from __future__ import annotations

import re
import sys
import types
from pathlib import Path

import pytest
import torch

from conftest import tiny_config
from skelssl.config import load_config
from skelssl.engine.trainer import pretrain
from skelssl.eval.protocol import knn_eval, load_run
from skelssl.methods import METHODS
from skelssl.models import ENCODERS

DOCS = Path(__file__).resolve().parents[1] / "docs"


def example(page: str, monkeypatch) -> types.ModuleType:
    """The page's first Python block, executed as a module of its own."""
    code = re.search(r"```python\n(.*?)```", (DOCS / page).read_text(), re.S).group(1)
    module = types.ModuleType(page.removesuffix(".md").replace("-", "_"))
    monkeypatch.setitem(sys.modules, module.__name__, module)
    exec(compile(code, str(DOCS / page), "exec", dont_inherit=True), module.__dict__)
    return module


@pytest.fixture
def simsiam(monkeypatch):
    monkeypatch.setitem(METHODS, "simsiam", example("adding-a-method.md", monkeypatch).SimSiam)


@pytest.fixture
def tcn(monkeypatch):
    monkeypatch.setitem(ENCODERS, "tcn", example("adding-an-encoder.md", monkeypatch).TCN)


def test_the_example_method_trains_and_evaluates(simsiam, tmp_path, prepared_synthetic):
    values = tiny_config(prepared_synthetic, train={"epochs": 1})
    values["method"] = {"name": "simsiam", "projection_dim": 16, "predictor_dim": 8}
    history = pretrain(load_config(values), tmp_path / "run", progress=False)
    assert torch.isfinite(torch.tensor(history[0]["loss"]))
    assert 0 <= knn_eval(load_run(tmp_path / "run"), "joint", 1, 0.1)["top1"] <= 100
    values["method"]["predictor_dim"] = 32
    with pytest.raises(Exception, match="method.predictor_dim: expected a bottleneck"):
        load_config(values)


def test_the_example_encoder_trains_and_evaluates(tcn, tmp_path, prepared_synthetic):
    values = tiny_config(prepared_synthetic, train={"epochs": 1},
                         encoder={"name": "tcn", "hidden_channels": 8, "feature_dim": 16,
                                  "kernel_size": 3})
    del values["encoder"]["dropout"]
    pretrain(load_config(values), tmp_path / "run", progress=False)
    run = load_run(tmp_path / "run")
    assert run.encoders["joint"].encoder.blocks[0][0].in_channels == 3 * 25
    assert 0 <= knn_eval(run, "joint", 1, 0.1)["top1"] <= 100
    encoder = run.encoders["joint"].encoder
    x = torch.randn(2, 3, 9, 25, 2)
    padded = torch.cat([x, torch.full((2, 3, 4, 25, 2), 7.0)], dim=2)  # padding never counts
    torch.testing.assert_close(encoder(padded, torch.tensor([9, 9])), encoder(x))
    short = encoder(padded, torch.tensor([9, 5]))
    torch.testing.assert_close(short[1], encoder(x[1:, :, :5])[0])
