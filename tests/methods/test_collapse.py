"""The collapse monitor: spread and mean cosine against their definitions, and the warning."""

import math

import pytest
import torch

from conftest import tiny_config
from skelssl.config import load_config
from skelssl.engine.trainer import collapse_warnings, pretrain
from skelssl.methods.collapse import (
    collapse_metrics,
    embedding_spread,
    key_identification,
    mean_cosine,
)


def test_spread_is_one_for_an_orthonormal_basis_and_zero_for_one_point():
    basis = torch.eye(8) * 3.0  # the norm does not matter: vectors are normalised first
    assert embedding_spread(basis).item() == pytest.approx(1.0)
    assert embedding_spread(torch.ones(5, 8)).item() == pytest.approx(0.0, abs=1e-6)
    shared = torch.ones(64, 8) + 0.01 * torch.randn(64, 8, generator=torch.Generator()
                                                     .manual_seed(0))
    assert embedding_spread(shared).item() < 0.05  # one common direction: nearly collapsed
    wide = torch.randn(4096, 16, generator=torch.Generator().manual_seed(0))
    assert embedding_spread(wide).item() == pytest.approx(1.0, abs=0.05)


def test_mean_cosine_averages_the_distinct_pairs():
    z = torch.tensor([[1.0, 0.0], [1.0, 1.0], [0.0, -2.0]])
    pairs = [1 / math.sqrt(2), 0.0, -1 / math.sqrt(2)]  # (0,1), (0,2), (1,2)
    assert mean_cosine(z).item() == pytest.approx(sum(pairs) / 3, abs=1e-6)
    assert mean_cosine(torch.eye(4)).item() == pytest.approx(0.0, abs=1e-7)
    assert mean_cosine(torch.ones(3, 4)).item() == pytest.approx(1.0)


def test_key_identification_against_a_hand_computation():
    q = torch.tensor([[1.0, 0.0], [0.0, 2.0], [1.0, 1.0]])
    k = torch.tensor([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]])  # query 1's own key is not its nearest
    found = key_identification(q, k)
    # cosines: row 0 (1, 1, 0), row 1 (0, 0, 1), row 2 (s, s, s) with s = 1/√2
    s = 1 / math.sqrt(2)
    assert found["top1"].item() == pytest.approx(1 / 3)  # row 0 only (a tie goes to the first)
    gaps = [1 - (1 + 0) / 2, 0 - (0 + 1) / 2, s - (s + s) / 2]
    assert found["gap"].item() == pytest.approx(sum(gaps) / 3, abs=1e-6)
    same = torch.randn(16, 8, generator=torch.Generator().manual_seed(0))
    assert key_identification(same, same)["top1"].item() == 1.0
    assert key_identification(same, torch.ones(16, 8))["gap"].item() == pytest.approx(0, abs=1e-6)


def test_metrics_are_named_per_stream_and_carry_no_gradient():
    z = torch.randn(6, 4, requires_grad=True)
    assert set(collapse_metrics(z)) == {"spread", "cosine"}
    metrics = collapse_metrics(z, "bone")
    assert set(metrics) == {"spread_bone", "cosine_bone"}
    assert not any(value.requires_grad for value in metrics.values())


def test_a_low_spread_is_warned_once_per_key():
    warned: set[str] = set()
    row = {"epoch": 3, "loss": 4.1, "spread_joint": 0.04, "spread_bone": 0.5,
           "cosine_joint": 0.99}
    first = collapse_warnings(row, 0.1, warned)
    assert len(first) == 1 and first[0].startswith("epoch 3: spread_joint 0.040 < "
                                                   "train.collapse_warning 0.1")
    assert collapse_warnings({**row, "epoch": 4}, 0.1, warned) == []
    assert collapse_warnings(row, None, set()) == []


def test_training_logs_the_spread_and_warns_below_the_threshold(tmp_path, prepared_synthetic,
                                                                capsys):
    config = load_config(tiny_config(prepared_synthetic, train={"epochs": 1,
                                                                "collapse_warning": 2.0}))
    history = pretrain(config, tmp_path / "run", progress=False)
    assert 0.0 <= history[0]["spread"] < 2.0 and -1.0 <= history[0]["cosine"] <= 1.0
    header = (tmp_path / "run" / "metrics.csv").read_text().splitlines()[0].split(",")
    assert {"spread", "cosine"} <= set(header)
    assert "spread" in capsys.readouterr().err  # 2.0 is above any spread: always warned
