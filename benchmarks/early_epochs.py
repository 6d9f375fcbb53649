"""The first epochs of several runs side by side: training loss and embedding spread per epoch.

For diagnosing whether a setting learns at all before spending a full schedule on it: reads
each run's ``metrics.csv`` (the collapse monitor's columns) and writes docs/results/<topic>
.{json,md}, with a chance line when given (e.g. ln(2N − 1) for NT-Xent over a batch of N).

    python benchmarks/early_epochs.py --run "unit 1 m=runs/a" --run "unit 0.1 m=runs/b" \\
        --topic viewclr-distance-nw-ucla --chance 4.844 --note "..."
"""

from __future__ import annotations

import argparse
import csv
import time
from pathlib import Path

from results import page_arguments, provenance, run_family, write_results


def read_metrics(run_dir: Path) -> list[dict[str, float]]:
    with (run_dir / "metrics.csv").open() as f:
        return [{k: float(v) for k, v in row.items()} for row in csv.DictReader(f)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--run", action="append", type=run_family, required=True,
                        metavar="NAME=DIR", help="a run to show, repeatable")
    parser.add_argument("--epochs", type=int, default=25, help="epochs shown at most")
    parser.add_argument("--chance", type=float, default=None,
                        help="the loss of embeddings that tell nothing apart")
    page_arguments(parser, None)
    args = parser.parse_args()
    started = time.perf_counter()
    rows = []
    for name, (run_dir, *_) in args.run:
        metrics = read_metrics(run_dir)[:args.epochs]
        rows.append({**provenance(), "variant": name, "run": str(run_dir),
                     "epochs": len(metrics), "chance": args.chance,
                     "loss": [round(m["loss"], 3) for m in metrics],
                     "spread": [round(m["spread"], 3) for m in metrics],
                     "seconds_per_epoch": round(sum(m["epoch_time_s"] for m in metrics)
                                                / len(metrics), 1)})
    wall = round(time.perf_counter() - started, 1)
    for row in rows:
        row["wall_time_s"] = wall
    shown = max(r["epochs"] for r in rows)
    chance = f" Chance (embeddings that tell nothing apart): {args.chance:.3f}." \
        if args.chance is not None else ""
    lines = [f"# First epochs: {', '.join(r['variant'] for r in rows)}", "",
             f"Command: `{rows[0]['command']}` · commit `{rows[0]['commit']}` · machine: "
             f"{rows[0]['machine']}. {args.note}", "",
             f"Training loss / query embedding spread (the collapse monitor: ≈ 1 spread, "
             f"0 collapsed) at the end of each epoch.{chance}", "",
             "| epoch | " + " | ".join(r["variant"] for r in rows) + " |",
             "|---|" + "---|" * len(rows)]
    for epoch in range(shown):
        cells = [f"{r['loss'][epoch]:.3f} / {r['spread'][epoch]:.2f}" if epoch < r["epochs"]
                 else "" for r in rows]
        lines.append(f"| {epoch + 1} | " + " | ".join(cells) + " |")
    lines += ["", "Runs: " + "; ".join(f"{r['variant']}: `{r['run']}` ({r['epochs']} epochs, "
                                        f"{r['seconds_per_epoch']} s/epoch)" for r in rows)]
    write_results(args.out, args.topic, rows, lines)


if __name__ == "__main__":
    main()
