"""benchmarks/methods_nw_ucla_gpu.sh: every table it would start on a GPU names valid configs."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from skelssl.config import load_config
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


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_every_gpu_table_parses_and_its_configs_load(tmp_path, monkeypatch, benchmark):
    recorder = tmp_path / "python"
    recorder.write_text(RECORDER)
    recorder.chmod(0o755)
    out = tmp_path / "out"
    subprocess.run(["bash", "benchmarks/methods_nw_ucla_gpu.sh", str(out), "2", *METHODS],
                   cwd=ROOT, check=True, capture_output=True,
                   env={**os.environ, "PYTHON": str(recorder), "RUNS": str(tmp_path / "runs")})
    monkeypatch.chdir(ROOT)  # configs are named relative to the repository root
    table = benchmark("method_nw_ucla")
    import recipe_nw_ucla

    for topic in ("aimclr-nw-ucla", "viewclr-nw-ucla", "actclr-nw-ucla", "isc-nw-ucla-full"):
        args = (out / f"{topic}.args").read_text().splitlines()
        specs = {flag: [value for name, value in zip(args, args[1:], strict=False)
                        if name == flag] for flag in ("--variant", "--ablation", "--ensemble")}
        variants = [table.parse_variant(spec) for spec in specs["--variant"]]
        ablations = [table.parse_variant(spec) for spec in specs["--ablation"]]
        assert variants and ablations, f"{topic}: expected --variant and --ablation tables"
        for spec in specs["--ensemble"]:
            table.parse_ensemble(spec, dict(variants))
        for _, candidate in variants + ablations:
            values = recipe_nw_ucla.candidate_values(candidate.config, candidate.overrides, 0,
                                                     "test")
            where = f"{topic}: {candidate.name}"
            if is_pipeline(values):
                assert stage_configs(values, tmp_path / "run", where)
            else:
                load_config(values, where=where)
