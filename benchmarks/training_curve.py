"""Accuracy along training: linear probe and 1-NN of every snapshot a run kept.

Each run given must have trained with ``train.snapshot_epochs`` (its encoders kept after those
epochs in ``snapshots/``). Every snapshot, and the final encoder when no snapshot holds its
epoch, gets the linear probe (``--preset``, final epoch) and 1-NN of each of its encoders (a
line per encoder when a run has several), as ``skelssl eval linear RUN --weights epoch-N``
would; the seeds of one family are averaged per epoch.
For a second stage, the snapshot of epoch 0 is its initialisation (e.g. ActCLR's AimCLR
encoder), so the curve shows what the stage adds; for a run from scratch it is a random
encoder with its initial BatchNorm statistics (`--weights random` is the fair baseline).
Writes docs/results/<topic>.{json,md,png}. From the repository root:

    python benchmarks/training_curve.py --family "ActCLR · joint=runs/actclr-agcn-seed*" \\
        --topic actclr-curve-nw-ucla
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from results import (
    cell,
    linear_and_nearest_neighbour,
    page_arguments,
    provenance,
    run_family,
    save_figure,
    summary,
    write_results,
)

from skelssl.engine.encoder_file import read_encoder_file
from skelssl.engine.run_dir import final_stage_dir, kept_snapshots

PROBES = {"linear": "linear", "knn": "1-NN"}


def evaluated_weights(run_dir: Path) -> dict[int, str]:
    """Epoch → the weights to evaluate there: every snapshot, and the final encoder."""
    stage = final_stage_dir(run_dir)
    weights = {epoch: f"epoch-{epoch}" for epoch in kept_snapshots(stage)}
    if not weights:
        raise SystemExit(f"{stage}: no snapshots; train it with train.snapshot_epochs")
    final = read_encoder_file(stage).epoch
    return weights if final in weights else {**weights, final: "trained"}


def curves(name: str, runs: list[Path], preset: str
           ) -> dict[str, dict[int, dict[str, list[float]]]]:
    """Line → epoch → probe → one score per run (the epochs every run has); a line per
    encoder (``NAME · stream``) when the runs have several."""
    streams = list(read_encoder_file(final_stage_dir(runs[0])).states)
    lines: dict[str, dict[int, dict[str, list[float]]]] = {}
    per_run = [evaluated_weights(run) for run in runs]
    shared = sorted(set.intersection(*(set(weights) for weights in per_run)))
    for run, weights in zip(runs, per_run, strict=True):
        for stream in streams:
            line = lines.setdefault(f"{name} · {stream}" if len(streams) > 1 else name, {})
            for epoch in shared:
                result = linear_and_nearest_neighbour(run, preset, weights[epoch], stream)
                for probe, values in line.setdefault(epoch, {p: [] for p in PROBES}).items():
                    values.append(result[probe])
    return lines


def plot(rows: list[dict], path: Path) -> None:
    """One panel per probe: mean over seeds per epoch, the band one standard deviation."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(1, len(PROBES), figsize=(5 * len(PROBES), 3.6), squeeze=False)
    for axis, (probe, label) in zip(axes[0], PROBES.items(), strict=True):
        for family in dict.fromkeys(row["family"] for row in rows):
            points = [row for row in rows if row["family"] == family and row["probe"] == probe]
            epochs = [row["epoch"] for row in points]
            means = [row["mean"] for row in points]
            spreads = [row["std"] or 0.0 for row in points]
            axis.plot(epochs, means, marker="o", label=family)
            axis.fill_between(epochs, [m - s for m, s in zip(means, spreads, strict=True)],
                              [m + s for m, s in zip(means, spreads, strict=True)], alpha=0.2)
        axis.set_xlabel("epoch")
        axis.set_ylabel(f"{label} top-1 (%)")
        axis.grid(alpha=0.3)
    axes[0][0].legend(fontsize=8)
    save_figure(figure, path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--family", action="append", type=run_family, required=True,
                        metavar="NAME=DIR[,DIR...]",
                        help="runs of one setting (seeds; globs allowed), repeatable")
    parser.add_argument("--preset", default="crrl-std", help="linear preset")
    page_arguments(parser, None)
    args = parser.parse_args()
    started = time.perf_counter()
    rows = []
    for name, runs in args.family:
        for line, points in curves(name, runs, args.preset).items():
            rows += [{"family": line, "epoch": epoch, "probe": probe, "preset": args.preset,
                      "runs": [str(run) for run in runs], **summary(values)}
                     for epoch, scores in points.items() for probe, values in scores.items()]
    common = {**provenance(), "wall_time_s": round(time.perf_counter() - started, 1)}
    rows = [{**common, **row} for row in rows]
    markdown = [
        "# Accuracy along training",
        "",
        f"Command: `{common['command']}` · commit `{common['commit']}` · machine: "
        f"{common['machine']} · wall time {common['wall_time_s']} s. {args.note}",
        "",
        f"The encoders of each snapshot (epoch 0: the initialisation), linear "
        f"(`{args.preset}`, final epoch) / 1-NN on the test split, mean ± std over the runs.",
        "",
        "| setting | epoch | linear | 1-NN |",
        "|---|---|---|---|",
    ]
    for row in rows:
        if row["probe"] == "linear":
            knn = next(other for other in rows if other["probe"] == "knn"
                       and other["family"] == row["family"] and other["epoch"] == row["epoch"])
            markdown.append(f"| {row['family']} | {row['epoch']} | {cell(row)} | {cell(knn)} |")
    args.out.mkdir(parents=True, exist_ok=True)
    plot(rows, args.out / f"{args.topic}.png")
    markdown += ["", f"![accuracy along training]({args.topic}.png)"]
    write_results(args.out, args.topic, rows, markdown)


if __name__ == "__main__":
    main()
