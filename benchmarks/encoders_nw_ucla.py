"""SkeletonCLR's joint stream on NW-UCLA with each encoder of the zoo, on equal terms.

Every config is configs/skeletonclr/nw-ucla.yaml with another encoder section (the same
queue, augmentation, preprocessing and 60-epoch schedule). For each: pretrain (seed 0 by
default, resuming what is there) into runs/encoders-nw-ucla/<config>-seed<s>, then evaluate the
final encoder: linear probe (`crrl-std`, final epoch), 1-NN, and the probe on 10 % of the
labels (3 draws). The random-weights floor of each encoder comes from benchmarks/floors.py.
Writes docs/results/encoders-nw-ucla.{json,md}. From the repository root:

    python benchmarks/encoders_nw_ucla.py
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from results import cell, pretrain_commits, pretrain_seconds, provenance, summary, write_results

from skelssl.config import load_config
from skelssl.engine.checkpoint import finished_epochs
from skelssl.engine.trainer import pretrain
from skelssl.eval.protocol import knn_eval, linear_probe, load_run, write_result
from skelssl.eval.semi import semi_supervised

CONFIGS = {"ST-GCN 1/4": "configs/skeletonclr/nw-ucla.yaml",
           "2s-AGCN 1/4": "configs/skeletonclr/nw-ucla-agcn.yaml",
           "HCN": "configs/skeletonclr/nw-ucla-hcn.yaml",
           "BiGRU 3×256 (ISC at 1/4 width)": "configs/skeletonclr/nw-ucla-bigru-isc.yaml",
           "ResNet-18 1/4": "configs/skeletonclr/nw-ucla-resnet18.yaml"}
PRESET = "crrl-std"


def evaluate(run_dir: Path, draws: int) -> dict[str, float]:
    run = load_run(run_dir)
    linear = linear_probe(run, "joint", PRESET)
    knn = knn_eval(run, "joint", 1, 0.1)
    semi = semi_supervised(run, "joint", PRESET, (0.1,), draws)
    for result in (linear, knn, semi):
        write_result(run, result)
    return {"linear": linear["top1"], "knn": knn["top1"], "semi": semi["fractions"][0]["mean"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--encoders", nargs="+", choices=list(CONFIGS), default=list(CONFIGS))
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--draws", type=int, default=3)
    parser.add_argument("--runs", type=Path, default=Path("runs/encoders-nw-ucla"))
    parser.add_argument("--out", type=Path, default=Path("docs/results"))
    args = parser.parse_args()
    started = time.perf_counter()
    rows, lines, pretraining = [], [], 0.0
    for label in args.encoders:
        path = Path(CONFIGS[label])
        scores: dict[str, list[float]] = {}
        seconds, commits = [], set()
        for seed in args.seeds:
            config = load_config(path, [f"seed={seed}"])
            run_dir = args.runs / f"{path.stem}-seed{seed}"
            if (finished_epochs(run_dir) or 0) < config.train.epochs:
                pretrain(config, run_dir, resume=True)
            seconds.append(pretrain_seconds(run_dir))
            commits.update(pretrain_commits(run_dir))
            for key, value in evaluate(run_dir, args.draws).items():
                scores.setdefault(key, []).append(value)
        pretraining += sum(seconds)
        base = {"method": "skeletonclr", "variant": "SkeletonCLR · joint", "stream": "joint",
                "encoder": label, "config": str(path), "dataset": "nw-ucla", "split": "view3",
                "metric": "top1", "epoch": "final", "seeds": args.seeds, "paper": None,
                "pretrain_s_per_seed": round(statistics.mean(seconds), 1),
                "pretrain_commits": sorted(commits)}
        found = {"linear": {"protocol": "linear", "preset": PRESET},
                 "knn": {"protocol": "knn", "k": 1},
                 "semi": {"protocol": "semi", "preset": PRESET, "label_fraction": 0.1,
                          "draws": args.draws}}
        for key, fields in found.items():
            rows.append({**base, **fields, **summary(scores[key])})
        lines.append(f"| {label} | `{path.name}` | " + " | ".join(
            cell(row) for row in rows[-3:]) + f" | {base['pretrain_s_per_seed'] / 60:.0f} min |")
    common = {**provenance(), "wall_time_s": round(time.perf_counter() - started + pretraining,
                                                   1)}
    for row in rows:
        row.update(common)
    markdown = [
        "# SkeletonCLR on NW-UCLA with every encoder",
        "",
        f"Command: `{common['command']}` · commit `{common['commit']}` · machine: "
        f"{common['machine']} · wall time {common['wall_time_s']} s (pretraining included) · "
        f"seeds {args.seeds}.",
        "",
        "SkeletonCLR, joint stream, the settings of `configs/skeletonclr/nw-ucla.yaml` (queue "
        "256, momentum 0.99, shear + crop, 60 epochs, batch 64) with each encoder; only the "
        f"`encoder` section differs. Linear = `{PRESET}` probe, final epoch; 1-NN = cosine; "
        f"10 % = the same probe on a class-balanced 10 % of the labels ({args.draws} draws). "
        "Each encoder's random-weights floor and the raw-coordinate floor: "
        "[floors-nw-ucla.md](floors-nw-ucla.md); all of them side by side: "
        "[leaderboard-nw-ucla.md](leaderboard-nw-ucla.md). Sizes and speeds: "
        "[encoders.md](encoders.md).",
        "",
        "| encoder | config | linear | 1-NN | 10 % labels | pretraining per seed |",
        "|---|---|---|---|---|---|",
        *lines,
    ]
    write_results(args.out, "encoders-nw-ucla", rows, markdown)


if __name__ == "__main__":
    main()
