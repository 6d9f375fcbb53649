"""How far an encoder's weights turn in the first epochs: the effective step of a config.

With BatchNorm after every convolution, a convolution's output does not depend on the norm of
its weights, and an SGD step of size lr·g turns them by about lr·|g|/|w| (the gradient itself
scales as 1/|w|): the effective learning rate grows as lr/|w|². The released ST-GCN code starts
its weights at N(0, 0.02), the released 2s-AGCN code (Kaiming, fan-out) several times larger;
at the same learning rate the first epochs then move the weights very differently.

For each candidate (``NAME[,config=PATH][,KEY=VALUE...]``, the config ``--config`` unless
named) the config's seeded initialisation is saved (``train.epochs=0``), then the run trains
epoch by epoch up to ``--epochs`` (the config's own schedule, warm-up included); after each
epoch the query encoder's convolution weights are compared with their initial values: the
angle between the two (degrees) and the norm ratio |w|/|w₀|, median and maximum over the
layers. Writes docs/results/<topic>.{json,md}. From the repository root:

    python benchmarks/effective_step.py --epochs 3 --candidate "stgcn" \\
        --candidate "stgcn-kaiming,encoder.weight_init=kaiming" \\
        --candidate "agcn,config=configs/skeletonclr/nw-ucla-agcn.yaml,train.warmup_epochs=10"
"""

from __future__ import annotations

import argparse
import math
import statistics
import time
from pathlib import Path

import torch
from recipe_nw_ucla import Candidate, parse_candidate
from results import page_arguments, provenance, write_results

from skelssl.config import apply_overrides, load_config, read_yaml
from skelssl.engine.encoder_file import read_encoder_file
from skelssl.engine.trainer import pretrain


def convolutions(run_dir: Path) -> dict[str, torch.Tensor]:
    """The first encoder's convolution weights (4-d tensors) of a run's ``encoder.pt``."""
    state = next(iter(read_encoder_file(run_dir).states.values()))
    return {name: value.double() for name, value in state.items() if value.dim() == 4}


def turn(start: dict[str, torch.Tensor], now: dict[str, torch.Tensor]) -> dict[str, list]:
    """Per layer: the angle (degrees) from ``start`` to ``now`` and the norm ratio."""
    angles, ratios = [], []
    for name, w0 in start.items():
        w = now[name]
        cosine = torch.dot(w0.flatten(), w.flatten()) / (w0.norm() * w.norm())
        angles.append(math.degrees(math.acos(max(-1.0, min(1.0, cosine.item())))))
        ratios.append((w.norm() / w0.norm()).item())
    return {"angle": angles, "norm_ratio": ratios}


def measure(candidate: Candidate, epochs: int, seed: int, runs: Path) -> list[dict]:
    values = apply_overrides(read_yaml(candidate.config), [*candidate.overrides, f"seed={seed}"])
    config = load_config(values, where=str(candidate.config))
    start_dir, run_dir = runs / f"{candidate.name}-init", runs / candidate.name
    pretrain(load_config(apply_overrides(values, ["train.epochs=0"])), start_dir,
             progress=False)
    start = convolutions(start_dir)
    rows = []
    for epoch in range(1, epochs + 1):
        pretrain(config, run_dir, resume=True, until_epoch=epoch, progress=False)
        moved = turn(start, convolutions(run_dir))
        rows.append({"candidate": candidate.name, "config": str(candidate.config),
                     "overrides": list(candidate.overrides), "seed": seed, "epoch": epoch,
                     "layers": len(start),
                     "initial_norm_median": statistics.median(w.norm().item()
                                                              for w in start.values()),
                     **{f"{key}_{stat.__name__}": stat(values)
                        for key, values in moved.items() for stat in (statistics.median, max)}})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--candidate", action="append", required=True,
                        metavar="NAME[,config=PATH][,KEY=VALUE...]", help="repeatable")
    parser.add_argument("--config", type=Path, default=Path("configs/skeletonclr/nw-ucla.yaml"))
    parser.add_argument("--epochs", type=int, default=3, help="epochs measured, one at a time")
    parser.add_argument("--seed", type=int, default=0, help="the initialisation compared")
    parser.add_argument("--runs", type=Path, default=Path("runs/effective-step"))
    page_arguments(parser, "effective-step-nw-ucla")
    args = parser.parse_args()
    started = time.perf_counter()
    rows = [row for spec in args.candidate
            for row in measure(parse_candidate(spec, args.config), args.epochs, args.seed,
                               args.runs)]
    wall = round(time.perf_counter() - started, 1)
    common = provenance()
    rows = [{**common, "wall_time_s": wall, **row} for row in rows]
    markdown = [
        "# How far the weights turn in the first epochs",
        "",
        f"Command: `{common['command']}` · commit `{common['commit']}` · machine: "
        f"{common['machine']} · wall time {wall} s · seed {args.seed}. {args.note}",
        "",
        "The query encoder's convolution weights after each epoch against their seeded "
        "initialisation: the angle between the two (degrees) and the norm ratio |w|/|w₀|, "
        "median and maximum over the layers; |w₀| = the median initial norm of a layer. With "
        "BatchNorm after every convolution only the direction of a layer's weights matters, "
        "so the angle is how far training has moved the encoder.",
        "",
        "| candidate | settings | epoch | layers | median |w₀| | angle median | angle max | "
        "norm ratio median | norm ratio max |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        settings = " ".join([f"`{row['config']}`", *row["overrides"]])
        markdown.append(
            f"| {row['candidate']} | {settings} | {row['epoch']} | {row['layers']} | "
            f"{row['initial_norm_median']:.2f} | {row['angle_median']:.1f}° | "
            f"{row['angle_max']:.1f}° | {row['norm_ratio_median']:.2f} | "
            f"{row['norm_ratio_max']:.2f} |")
    write_results(args.out, args.topic, rows, markdown)


if __name__ == "__main__":
    main()
