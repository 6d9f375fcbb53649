"""benchmarks/methods_nw_ucla_gpu.sh: every table it would start on a GPU names valid configs."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from skelssl.config import apply_overrides, load_config, read_yaml
from skelssl.engine.pipeline import is_pipeline, stage_configs

ROOT = Path(__file__).parents[1]
METHODS = ("aimclr", "viewclr", "actclr", "isc")
# stands in for python: keeps the arguments (one per line) and writes the page the script counts
RECORDER = """#!/bin/bash
shift
out=""; topic=""; prev=""
for arg in "$@"; do
  [ "$prev" = --out ] && out=$arg; [ "$prev" = --topic ] && topic=$arg; prev=$arg
done
printf '%s\\n' "$@" > "$out/$topic.args"; echo "| line |" > "$out/$topic.md"
"""


def flat(values: dict, prefix: str = "") -> dict:
    """Nested config values as {dotted.key: value}."""
    items: dict = {}
    for key, value in values.items():
        name = f"{prefix}{key}"
        items.update(flat(value, f"{name}.") if isinstance(value, dict) else {name: value})
    return items


@pytest.fixture
def recorded(tmp_path, monkeypatch, benchmark) -> dict:
    """{topic: {"--variant"/"--ablation": [(label, candidate)]}} of every table the script
    would start (its ensembles checked against its variants)."""
    if shutil.which("bash") is None:
        pytest.skip("needs bash")
    recorder = tmp_path / "python"
    recorder.write_text(RECORDER)
    recorder.chmod(0o755)
    out = tmp_path / "out"
    subprocess.run(["bash", "benchmarks/methods_nw_ucla_gpu.sh", str(out), "2", *METHODS],
                   cwd=ROOT, check=True, capture_output=True,
                   env={**os.environ, "PYTHON": str(recorder), "RUNS": str(tmp_path / "runs")})
    monkeypatch.chdir(ROOT)  # configs are named relative to the repository root
    table = benchmark("method_nw_ucla")
    topics = {}
    for topic in ("aimclr-nw-ucla", "viewclr-nw-ucla", "actclr-nw-ucla", "isc-nw-ucla-full"):
        args = (out / f"{topic}.args").read_text().splitlines()
        specs = {flag: [value for name, value in zip(args, args[1:], strict=False)
                        if name == flag] for flag in ("--variant", "--ablation", "--ensemble")}
        topics[topic] = {flag: [table.parse_variant(spec) for spec in specs[flag]]
                         for flag in ("--variant", "--ablation")}
        for spec in specs["--ensemble"]:
            table.parse_ensemble(spec, dict(topics[topic]["--variant"]))
    return topics


def test_every_gpu_table_parses_and_its_configs_load(recorded, tmp_path):
    import recipe_nw_ucla

    for topic, specs in recorded.items():
        variants, ablations = specs["--variant"], specs["--ablation"]
        assert variants and ablations, f"{topic}: expected --variant and --ablation tables"
        for _, candidate in variants + ablations:
            values = recipe_nw_ucla.candidate_values(candidate.config, candidate.overrides, 0,
                                                     "test")
            where = f"{topic}: {candidate.name}"
            if is_pipeline(values):
                assert stage_configs(values, tmp_path / "run", where)
            else:
                load_config(values, where=where)


def test_actclr_released_code_row_is_the_released_config(recorded):
    """The GPU table's "released code" overrides change exactly what nw-ucla-sgd.yaml changes."""
    ablations = dict(recorded["actclr-nw-ucla"]["--ablation"])
    released = ablations["ActCLR · joint, released code"]
    base = flat(read_yaml(released.config))
    changed = flat(apply_overrides(read_yaml(released.config), released.overrides))
    config = flat(read_yaml(ROOT / "configs/actclr/nw-ucla-sgd.yaml"))
    paper = flat(read_yaml(ROOT / "configs/actclr/nw-ucla.yaml"))
    stage2 = "stages.actclr."
    assert {k: v for k, v in changed.items() if base[k] != v} == {
        k: v for k, v in config.items() if k.startswith(stage2) and paper[k] != v}
