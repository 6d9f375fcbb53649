"""Pretraining cost: seconds per epoch of each config on this machine, and per seed at the
config's schedule (what the leaderboard's cost column shows).

Each config (optionally followed by comma-separated overrides) is trained for two epochs
(every stage of a pipeline), seed 0, into a scratch directory; the second epoch's time is its
cost per epoch (the first one pays one-off warm-up). Run alone on an otherwise idle machine.
Writes docs/results/<topic>.{json,md} (default pretrain-cost, the page the leaderboard's cost
column reads). From the repository root:

    python benchmarks/pretrain_cost.py configs/skeletonclr/nw-ucla.yaml configs/crrl/nw-ucla.yaml
"""

from __future__ import annotations

import argparse
import csv
import tempfile
import time
from pathlib import Path

from results import provenance, split_items, write_results

from skelssl.config import apply_overrides, load_config, read_yaml
from skelssl.engine.pipeline import is_pipeline, run_pipeline, stage_configs
from skelssl.engine.trainer import pretrain

MEASURED_EPOCHS = 2


def epoch_seconds(run_dir: Path) -> float:
    """The last epoch's time of a run (its metrics.csv)."""
    with (run_dir / "metrics.csv").open() as file:
        return float(list(csv.DictReader(file))[-1]["epoch_time_s"])


def measure(path: Path, overrides: list[str], scratch: Path) -> dict:
    """Seconds per epoch of each stage, and per seed at the configured epochs."""
    values = apply_overrides(read_yaml(path), [*overrides, "seed=0"])
    if is_pipeline(values):
        stages = list(values["stages"])
        configured = [config.train.epochs for _, config in stage_configs(values, scratch)]
        short = apply_overrides(values, [f"stages.{name}.train.epochs={MEASURED_EPOCHS}"
                                         for name in stages])
        run_pipeline(short, scratch, progress=False)
        seconds = [epoch_seconds(scratch / name) for name in stages]
    else:
        stages, configured = ["run"], [load_config(values).train.epochs]
        short = apply_overrides(values, [f"train.epochs={MEASURED_EPOCHS}"])
        pretrain(load_config(short), scratch, progress=False)
        seconds = [epoch_seconds(scratch)]
    per_seed = sum(s * e for s, e in zip(seconds, configured, strict=True))
    return {"config": str(path), "overrides": overrides, "stages": stages,
            "seconds_per_epoch": [round(s, 2) for s in seconds], "epochs": configured,
            "mean": round(per_seed, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("configs", nargs="+", help="CONFIG[,KEY=VALUE,...]")
    parser.add_argument("--dataset", default="nw-ucla")
    parser.add_argument("--topic", default="pretrain-cost",
                        help="the results page (another name leaves the leaderboard's alone)")
    parser.add_argument("--note", default="", help="a sentence after the command line")
    parser.add_argument("--out", type=Path, default=Path("docs/results"))
    args = parser.parse_args()
    started = time.perf_counter()
    rows, lines = [], []
    for spec in args.configs:
        path, *overrides = split_items(spec)
        with tempfile.TemporaryDirectory() as scratch:
            result = measure(Path(path), overrides, Path(scratch) / "run")
        rows.append({"variant": "pretraining cost", "dataset": args.dataset,
                     "protocol": "pretrain", "metric": "seconds_per_seed", "std": None,
                     "values": [result["mean"]], "seeds": [0], "paper": None, **result})
        per_epoch = " + ".join(f"{s:.1f} s × {e}" for s, e in
                               zip(result["seconds_per_epoch"], result["epochs"], strict=True))
        lines.append(f"| `{spec}` | {per_epoch} | {result['mean'] / 3600:.2f} |")
    common = {**provenance(), "wall_time_s": round(time.perf_counter() - started, 1)}
    for row in rows:
        row.update(common)
    markdown = [
        "# Pretraining cost",
        "",
        f"Command: `{common['command']}` · commit `{common['commit']}` · machine: "
        f"{common['machine']} · wall time {common['wall_time_s']} s. {args.note}".rstrip(),
        "",
        f"Each config trained for {MEASURED_EPOCHS} epochs (each stage of a pipeline), seed 0, "
        "alone on the machine with the default threads; the last epoch's wall time is the "
        "cost per epoch (data reading, augmentation and the optimiser step included). Per seed "
        "= Σ over stages of seconds per epoch × the config's epochs.",
        "",
        "| config | seconds per epoch × epochs | hours per seed |",
        "|---|---|---|",
        *lines,
    ]
    write_results(args.out, args.topic, rows, markdown)


if __name__ == "__main__":
    main()
