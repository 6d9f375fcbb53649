"""benchmarks/actclr_anchor_context.py: the static anchor encoded alone or in the views' pass."""

import json
import sys

import pytest
import yaml

from conftest import tiny_config
from skelssl.data.dataset import PreparedDataset


@pytest.mark.slow
def test_page_compares_both_contexts_on_every_body_part(tmp_path, tiny_run, prepared_synthetic,
                                                         benchmark, monkeypatch):
    anchor_context = benchmark("actclr_anchor_context")
    values = tiny_config(prepared_synthetic)
    values["stages"] = {"actclr": {"method": {"name": "actclr", "queue_size": 32,
                                              "projection_dim": 8},
                                   "train": values.pop("train")}}
    del values["method"]
    config = tmp_path / "pipeline.yaml"
    config.write_text(yaml.safe_dump(values))
    out = tmp_path / "out"
    monkeypatch.setattr(sys, "argv", ["actclr_anchor_context.py", str(tiny_run), "--config",
                                      str(config), "--batches", "1", "--out", str(out)])
    anchor_context.main()
    rows = {row["statistic"]: row["mean"]
            for row in json.loads((out / "actclr-anchor-context-nw-ucla.json").read_text())}
    size = "mean absolute value of the anchor's last maps"
    assert rows[f"{size} (alone)"] != rows[f"{size} (batch)"]
    for context in ("alone", "batch"):
        assert 0.0 < rows[f"actionlet mean ({context})"] <= 1.0
        assert 0.5 <= rows[f"share of Σ A on each map's top half ({context})"] <= 1.0
        for part in PreparedDataset.open(prepared_synthetic).layout.parts:
            assert 0.0 <= rows[f"actionlet mean on the {part} ({context})"] <= 1.0
    assert -1.0 <= rows["correlation of the two actionlets"] <= 1.0
    page = (out / "actclr-anchor-context-nw-ucla.md").read_text()
    assert f"| {size} (batch) |" in page
