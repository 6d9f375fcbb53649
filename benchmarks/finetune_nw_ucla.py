"""Finetuning on NW-UCLA: pretrained encoders trained end to end against the same architecture
trained from scratch (the supervised baseline), on all labels and on labelled fractions.

Each argument names a family of pretrained runs (one per pretraining seed) as
NAME=DIR[,DIR...]; a DIR may be a glob pattern (quote it). Every run is finetuned with
`skelssl eval finetune` (preset crossclr: Nesterov SGD lr 0.1, 100 epochs, ×0.1 after 80;
isc: ISC's Adam lr 1e-4, 50 epochs, ×0.1 after 30 and 40) from its trained encoder and from
scratch, for each label fraction, on ``--draws`` draws of the labelled samples (a run's value
is its mean over draws). The finetuning runs live in each run's finetune/ folder, so an
interrupted benchmark resumes where it stopped. Writes docs/results/<topic>.{json,md}
(default finetune-nw-ucla). From the repository root:

    python benchmarks/finetune_nw_ucla.py "SkeletonCLR=runs/nw-ucla-skeletonclr-seed*" \
        --fractions 1.0 0.1
    python benchmarks/finetune_nw_ucla.py "ISC · inter=runs/isc-nw-ucla/isc-seed*" \
        --preset isc --stream sequence --fractions 0.01 0.05 0.1 0.2 --draws 3 \
        --topic semi-isc-nw-ucla
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from results import cell, pretrain_seconds, provenance, run_family, summary, write_results

from skelssl.eval.finetune import FINETUNE_PRESETS, FinetunePreset, finetune, write_finetune_result

WEIGHTS = {"trained": "{name} (finetuned)", "random": "{name} architecture from scratch"}


def optimiser(preset: FinetunePreset) -> str:
    """How the page names a preset's optimiser."""
    if preset.optimizer == "adam":
        return "Adam"
    return f"{'Nesterov ' * preset.nesterov}SGD (momentum {preset.momentum})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("families", nargs="+", type=run_family, help="NAME=DIR[,DIR...]")
    parser.add_argument("--fractions", type=float, nargs="+", default=[1.0, 0.1])
    parser.add_argument("--preset", default="crossclr", choices=sorted(FINETUNE_PRESETS))
    parser.add_argument("--stream", default="joint")
    parser.add_argument("--draws", type=int, default=1,
                        help="draws of the labelled samples per fraction below 1")
    parser.add_argument("--topic", default="finetune-nw-ucla", help="the results page")
    parser.add_argument("--epochs", type=int, default=None, help="override (smoke runs)")
    parser.add_argument("--out", type=Path, default=Path("docs/results"))
    args = parser.parse_args()
    started = time.perf_counter()
    rows, lines, training = [], [], 0.0
    for name, run_dirs in args.families:
        for weights, label in WEIGHTS.items():
            cells = []
            for fraction in args.fractions:
                values, seeds, samples, method = [], [], 0, ""
                draws = args.draws if fraction < 1.0 else 1  # all labels: one draw
                for run_dir in run_dirs:
                    per_draw = []
                    for draw in range(draws):
                        result = finetune(run_dir, args.preset, args.stream, weights,
                                          fraction, draw, epochs=args.epochs)
                        write_finetune_result(result)
                        per_draw.append(result["top1"])
                        training += pretrain_seconds(Path(result["finetune_run"]))
                    values.append(statistics.mean(per_draw))
                    seeds.append(result["pretrain_seed"])
                    samples, method = result["train_samples"], result["method"]
                rows.append({"method": method, "variant": label.format(name=name),
                             "weights": weights, "dataset": "nw-ucla", "split": "view3",
                             "protocol": "finetune", "preset": args.preset,
                             "epochs": args.epochs or FINETUNE_PRESETS[args.preset].epochs,
                             "label_fraction": fraction, "train_samples": samples,
                             "draws": draws,
                             "stream": args.stream, "metric": "top1", "epoch": "final",
                             "seeds": seeds, "runs": [str(d) for d in run_dirs],
                             "paper": None, **summary(values)})
                cells.append(cell(rows[-1]))
            lines.append(f"| {label.format(name=name)} | " + " | ".join(cells) + " |")
    common = {**provenance(), "wall_time_s": round(time.perf_counter() - started, 1),
              "training_time_s": round(training, 1)}
    for row in rows:
        row.update(common)
    heads = [f"{100 * f:g} % labels ({rows[i]['train_samples']})"
             for i, f in enumerate(args.fractions)]
    preset = FINETUNE_PRESETS[args.preset]
    drawn = "draw 0" if args.draws == 1 else f"the mean over draws 0–{args.draws - 1}"
    markdown = [
        "# Finetuning on NW-UCLA",
        "",
        f"Command: `{common['command']}` · commit `{common['commit']}` · machine: "
        f"{common['machine']} · wall time {common['wall_time_s']} s (finetuning epochs: "
        f"{common['training_time_s']} s, summed over runs, including earlier sessions).",
        "",
        f"`skelssl eval finetune`, preset `{args.preset}`: encoder ({args.stream}) + linear "
        f"classifier trained end to end, {optimiser(preset)} lr {preset.lr}, weight decay "
        f"{preset.weight_decay}, batch {preset.batch_size}, {args.epochs or preset.epochs} "
        f"epochs (×{preset.gamma} after {', '.join(map(str, preset.milestones))}), no "
        "augmentation; trained on views 1 + 2 (or a class-balanced labelled fraction of them: "
        f"{drawn}), tested on view 3 (464 sequences), final epoch. Finetuned = started from "
        "the pretrained encoder; from scratch = the same architecture and seed from its random "
        "initialisation. A cell is mean ± std over the pretraining seeds, then the per-run "
        "values. The papers report no NW-UCLA finetuning numbers.",
        "",
        "| encoder | " + " | ".join(heads) + " |",
        "|---|" + "---|" * len(heads),
        *lines,
    ]
    write_results(args.out, args.topic, rows, markdown)


if __name__ == "__main__":
    main()
