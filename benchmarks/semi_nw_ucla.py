"""Semi-supervised evaluation on NW-UCLA: linear probes on 1, 5, 10 and 20 % of the labels.

Each argument names a family of pretrained runs (one per pretraining seed) as
NAME=DIR[,DIR...]; a DIR may be a glob pattern (quote it).
Every run is evaluated with `skelssl eval semi` (the linear preset on class-balanced labelled
fractions, 3 draws of the labelled samples) with its trained weights and with the same
architecture at random initialisation. A row's values are the per-run means over draws; mean
± std is over the runs. Writes docs/results/semi-nw-ucla.{json,md}. From the repository root,
after the runs of benchmarks/skeletonclr_nw_ucla.py and benchmarks/crrl_nw_ucla.py exist:

    python benchmarks/semi_nw_ucla.py "SkeletonCLR=runs/nw-ucla-skeletonclr-seed*" \
        "CRRL=runs/crrl-nw-ucla/CRRL-seed*"
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from results import cell, provenance, run_family, summary, write_results

from skelssl.eval.protocol import load_run, write_result
from skelssl.eval.semi import FRACTIONS, semi_supervised

WEIGHTS = ("trained", "random")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("families", nargs="+", type=run_family, help="NAME=DIR[,DIR...]")
    parser.add_argument("--preset", default="crrl-std")
    parser.add_argument("--draws", type=int, default=3)
    parser.add_argument("--stream", default="joint")
    parser.add_argument("--out", type=Path, default=Path("docs/results"))
    args = parser.parse_args()
    started = time.perf_counter()
    rows, lines = [], []
    for name, run_dirs in args.families:
        for weights in WEIGHTS:
            per_fraction: dict[float, list[float]] = {f: [] for f in FRACTIONS}
            samples, seeds, method = {}, [], ""
            for run_dir in run_dirs:
                run = load_run(run_dir, weights)
                result = semi_supervised(run, args.stream, args.preset, FRACTIONS, args.draws)
                write_result(run, result)
                seeds.append(run.config.seed)
                method = run.config.method.name
                for row in result["fractions"]:
                    per_fraction[row["label_fraction"]].append(row["mean"])
                    samples[row["label_fraction"]] = row["train_samples"]
            variant = name if weights == "trained" else f"{name} (random weights)"
            cells = []
            for fraction, values in per_fraction.items():
                rows.append({"method": method, "variant": variant, "weights": weights,
                             "dataset": "nw-ucla", "split": "view3", "protocol": "semi",
                             "preset": args.preset, "label_fraction": fraction,
                             "train_samples": samples[fraction], "draws": args.draws,
                             "stream": args.stream, "metric": "top1", "epoch": "final",
                             "seeds": seeds, "runs": [str(d) for d in run_dirs],
                             "paper": None, **summary(values)})
                cells.append(cell(rows[-1]))
            lines.append(f"| {variant} | " + " | ".join(cells) + " |")
    common = {**provenance(), "wall_time_s": round(time.perf_counter() - started, 1)}
    for row in rows:
        row.update(common)
    fractions = [f"{100 * f:g} % ({rows[i]['train_samples']})" for i, f in enumerate(FRACTIONS)]
    markdown = [
        "# Semi-supervised evaluation on NW-UCLA",
        "",
        f"Command: `{common['command']}` · commit `{common['commit']}` · machine: "
        f"{common['machine']} · wall time {common['wall_time_s']} s (evaluation only; "
        "features cached by earlier evaluations are reused).",
        "",
        f"Linear probe `{args.preset}` (docs/training.md) on the frozen {args.stream} encoder, "
        "trained on a class-balanced labelled fraction of the training split (views 1 + 2; "
        "round(fraction × class size) sequences per class, at least one) and tested on the "
        f"whole test split (view 3, 464 sequences); final epoch. Each run is probed on "
        f"{args.draws} draws of the labelled samples (seeds 0–{args.draws - 1}); a cell is "
        "mean ± std over the runs (pretraining seeds) of the per-run mean over draws, then the "
        "per-run values. Random weights: the same architecture and seed at initialisation "
        "(BatchNorm statistics from the training inputs). The papers report no NW-UCLA "
        "semi-supervised numbers.",
        "",
        "| encoder | " + " | ".join(fractions) + " |",
        "|---|" + "---|" * len(FRACTIONS),
        *lines,
    ]
    write_results(args.out, "semi-nw-ucla", rows, markdown)


if __name__ == "__main__":
    main()
