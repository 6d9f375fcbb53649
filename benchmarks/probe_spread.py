"""How much of a linear score's spread is the probe's own: one encoder, several probe seeds.

A results table's ``mean ± std`` over pretraining seeds mixes two sources: the encoders differ,
and the linear probe trained on their frozen features (its initial weights, its batch order)
lands differently. For each finished run this script keeps the encoder fixed and trains the
linear probe with ``--probe-seeds`` (the tables use probe seed 0), on the same cached
features; 1-NN has no seed and is reported once. It also reports how much the probe's test
accuracy moves over its last epochs (the tables report the final epoch). The runs gain at
most their feature cache, as after any evaluation. Writes docs/results/<topic>.{json,md}.
From the repository root:

    python benchmarks/probe_spread.py runs/viewclr-best-nw-ucla/*-seed* --topic probe-spread
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from results import cell, page_arguments, provenance, summary, write_results

from skelssl.eval.protocol import knn_eval, linear_probe, load_run


def probe_scores(run_dir: Path, preset: str, probe_seeds: list[int], last: int) -> dict:
    """1-NN, the linear score for each probe seed, and the range of probe seed 0's last
    ``last`` epochs, for a run's joint encoder (or its only one)."""
    run = load_run(run_dir)
    stream = "joint" if "joint" in run.encoders else next(iter(run.encoders))
    results = [linear_probe(run, stream, preset, seed=seed, progress=False)
               for seed in probe_seeds]
    tail = results[0]["curve"][-last:]
    return {"run": str(run_dir), "stream": stream, "pretrain_seed": run.config.seed,
            "knn_top1": round(knn_eval(run, stream, 1, 0.1)["top1"], 2),
            "linear": summary([result["top1"] for result in results]),
            "probe_seeds": probe_seeds, "last_epochs": last,
            "last_epochs_min": round(min(tail), 2), "last_epochs_max": round(max(tail), 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", type=Path, nargs="+", help="finished run directories")
    parser.add_argument("--probe-seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--preset", default="crrl-std", help="the linear probe")
    parser.add_argument("--last", type=int, default=10,
                        help="epochs at the end of probe seed 0's curve whose range is shown")
    page_arguments(parser, "probe-spread")
    args = parser.parse_args()
    started = time.perf_counter()
    rows = []
    for run_dir in args.runs:
        rows.append({**provenance(), "preset": args.preset, "metric": "top1", "epoch": "final",
                     **probe_scores(run_dir, args.preset, args.probe_seeds, args.last)})
        print(rows[-1]["run"], rows[-1]["knn_top1"], cell(rows[-1]["linear"]), flush=True)
    wall = round(time.perf_counter() - started, 1)
    for row in rows:
        row["wall_time_s"] = wall
    write_results(args.out, args.topic, rows, page(rows, args, wall))


def page(rows: list[dict], args: argparse.Namespace, wall: float) -> list[str]:
    """Markdown: one line per run, then the probe's spread beside the runs' spread."""
    c = rows[0]
    within = [row["linear"]["std"] for row in rows if row["linear"]["std"] is not None]
    first = [row["linear"]["values"][0] for row in rows]
    lines = ["# The linear probe's own spread", "",
             f"Command: `{c['command']}` · commit `{c['commit']}` · machine: {c['machine']} · "
             f"wall time {wall} s." + (f" {args.note}" if args.note else ""), "",
             f"Each run's encoder is fixed; the `{args.preset}` probe is trained on its cached "
             f"features with probe seeds {', '.join(map(str, args.probe_seeds))} (the results "
             "tables use seed 0) and tested on the test split, final epoch; 1-NN (cosine) has "
             f"no seed. Last epochs: the range of probe seed 0's test accuracy over its last "
             f"{args.last} epochs.", "",
             "| run | pretraining seed | 1-NN | linear over probe seeds | last epochs (seed 0) |",
             "|---|---|---|---|---|"]
    lines += [f"| `{row['run']}` | {row['pretrain_seed']} | {row['knn_top1']:.1f} | "
              f"{cell(row['linear'])} | {row['last_epochs_min']:.1f}–"
              f"{row['last_epochs_max']:.1f} |" for row in rows]
    if within and len(first) > 1:
        lines += ["", f"Spread of the probe alone (mean of the runs' std over probe seeds): "
                      f"{statistics.mean(within):.1f} points; spread over the runs with probe "
                      f"seed 0 (what a table's ± shows): {statistics.stdev(first):.1f} points."]
    return lines


if __name__ == "__main__":
    main()
