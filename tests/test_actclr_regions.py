"""benchmarks/actclr_regions.py: ActCLR's Fig. 3 page from ActCLR runs."""

import json
import sys

import pytest
import torch

from skelssl.engine.actionlets import REGIONS


def test_mean_pairwise_cosine_leaves_out_each_row_with_itself(benchmark):
    regions = benchmark("actclr_regions")
    rows = torch.tensor([[1.0, 0.0], [0.0, 2.0], [3.0, 0.0]])
    # pairs (0, 1) 0, (0, 2) 1, (1, 2) 0: mean 1/3
    assert regions.mean_pairwise_cosine(rows) == pytest.approx(1 / 3)


@pytest.mark.slow
def test_page_has_every_region_and_the_concentration(tmp_path, tiny_actclr_run, fast_preset,
                                                      benchmark, monkeypatch):
    regions = benchmark("actclr_regions")
    monkeypatch.setattr(sys, "argv", ["actclr_regions.py", str(tiny_actclr_run), "--preset",
                                      fast_preset, "--out", str(tmp_path / "out")])
    regions.main()
    rows = json.loads((tmp_path / "out" / "actclr-regions-nw-ucla.json").read_text())
    assert [row["region"] for row in rows if "region" in row] == list(REGIONS)
    statistics = {row["statistic"]: row["mean"] for row in rows if "statistic" in row}
    assert len(statistics) == 4
    assert all(-1.0 <= value <= 1.0 for value in statistics.values())
    page = (tmp_path / "out" / "actclr-regions-nw-ucla.md").read_text()
    assert "| actionlet top half |" in page and "share of Σ A on the top half" in page
