"""CRRL on NW-UCLA: the paper's Table VIII (fusion strategies), linear probe and 1-NN.

Each variant is a config in configs/crrl/ (see VARIANTS), trained into
runs/crrl-nw-ucla/<variant>-seed<s>. Stages that two variants share are trained once: the CML
variant is CRRL's first stage, CML-pretrain-SER starts from that stage too, and the two
SER-first variants start from the SER run (linked into their run directory). Every encoder is
evaluated by CRRL's protocols: linear (Nesterov SGD lr 0.1, batch 16, 85 epochs) on cached
features, final epoch, and 1-NN cosine. Writes docs/results/crrl-nw-ucla.{json,md}.
Run from the repository root after `skelssl prepare nw-ucla --raw .../all_sqe --out data/nw-ucla`:

    python benchmarks/crrl_nw_ucla.py                     # trains what is missing, then evaluates
    python benchmarks/crrl_nw_ucla.py --no-train          # evaluates the runs already there
    python benchmarks/crrl_nw_ucla.py --no-train --variants CRRL CML --preset crrl-std \
        --topic crrl-nw-ucla-std                          # another probe, into another page
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

from results import (
    cell,
    linear_and_nearest_neighbour,
    page_arguments,
    pretrain_commits,
    pretrain_seconds,
    provenance,
    summary,
    write_results,
)

from skelssl.config import apply_overrides, load_config, read_yaml
from skelssl.engine.checkpoint import finished_epochs
from skelssl.engine.pipeline import is_pipeline, run_pipeline, stage_configs
from skelssl.engine.trainer import pretrain

CONFIGS = Path("configs/crrl")
# Table VIII name → (config, paper linear, paper 1-NN), NW-UCLA.
VARIANTS = {
    "Rand-Enc": ("nw-ucla-rand-enc", 50.5, None),
    "CML": ("nw-ucla-cml", 72.8, None),
    "SER": ("nw-ucla-ser", 81.4, None),
    "CML-SER-joint": ("nw-ucla-cml-ser-joint", 82.2, None),
    "CML-pretrain-SER": ("nw-ucla-cml-pretrain-ser", 80.8, None),
    "SER-pretrain-CML": ("nw-ucla-ser-pretrain-cml", 79.7, None),
    "SER-distill-CML": ("nw-ucla-ser-distill-cml", 80.6, None),
    "CRRL": ("nw-ucla", 83.8, 86.4),
}
# (variant, stage) → the run that already trained it: "<variant>/<stage>" or "<variant>".
SHARED = {("CML", None): "CRRL/cml", ("CML-pretrain-SER", "cml"): "CRRL/cml",
          ("SER-pretrain-CML", "ser"): "SER", ("SER-distill-CML", "ser"): "SER"}


def run_path(runs: Path, variant: str, seed: int, stage: str | None = None) -> Path:
    """Where a variant's stage (or single-stage run) lives, following SHARED."""
    owner = SHARED.get((variant, stage))
    if owner is None:
        owner = f"{variant}/{stage}" if stage else variant
    name, _, owner_stage = owner.partition("/")
    path = runs / f"{name}-seed{seed}"
    return path / owner_stage if owner_stage else path


def stage_dirs(runs: Path, variant: str, seed: int) -> list[Path]:
    """The run directories that make a variant, first stage first."""
    values = read_yaml(CONFIGS / f"{VARIANTS[variant][0]}.yaml")
    stages = list(values["stages"]) if is_pipeline(values) else [None]
    return [run_path(runs, variant, seed, stage) for stage in stages]


def train(runs: Path, variant: str, seed: int) -> None:
    """Train what is missing of one variant (shared stages are linked, not retrained)."""
    values = apply_overrides(read_yaml(CONFIGS / f"{VARIANTS[variant][0]}.yaml"),
                             [f"seed={seed}"])
    if not is_pipeline(values):
        if (variant, None) in SHARED:
            return
        run_dir = run_path(runs, variant, seed)
        if not finished(run_dir):
            pretrain(load_config(values), run_dir, resume=True)
        return
    run_dir = runs / f"{variant}-seed{seed}"
    for name, _ in stage_configs(values, run_dir):
        source = run_path(runs, variant, seed, name)
        if source != run_dir / name:
            run_dir.mkdir(parents=True, exist_ok=True)
            link = run_dir / name
            if not link.exists():
                os.symlink(source.resolve(), link)
    run_pipeline(values, run_dir)


def finished(run_dir: Path) -> bool:
    """The run in ``run_dir`` has completed its configured epochs."""
    epochs = finished_epochs(run_dir)
    return epochs is not None and epochs >= load_config(run_dir / "config.yaml").train.epochs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2],
                        help="seeds of CRRL and Rand-Enc")
    parser.add_argument("--variant-seeds", type=int, nargs="+", default=[0],
                        help="seeds of the other variants (CML follows CRRL's seeds)")
    parser.add_argument("--no-train", action="store_true", help="evaluate existing runs only")
    parser.add_argument("--runs", type=Path, default=Path("runs/crrl-nw-ucla"))
    parser.add_argument("--variants", nargs="+", choices=list(VARIANTS), default=list(VARIANTS),
                        help="the Table VIII variants to train and evaluate")
    parser.add_argument("--preset", default="crrl", help="linear preset (the paper's: crrl)")
    page_arguments(parser, "crrl-nw-ucla")
    args = parser.parse_args()
    started = time.perf_counter()
    rows, lines, commits, pretraining = [], [], set(), 0.0
    common = {**provenance(), "method": "crrl", "dataset": "nw-ucla", "split": "view3",
              "metric": "top1"}
    for variant in args.variants:
        config, paper_linear, paper_knn = VARIANTS[variant]
        seeds = args.seeds if variant in ("CRRL", "Rand-Enc", "CML") else args.variant_seeds
        scores: dict[str, list[float]] = {}
        done_seeds, seconds = [], 0.0
        for seed in seeds:
            if not args.no_train:
                train(args.runs, variant, seed)
            dirs = stage_dirs(args.runs, variant, seed)
            if not finished(dirs[-1]):
                continue  # not trained (yet)
            done_seeds.append(seed)
            seconds += sum(pretrain_seconds(d) for d in dirs)
            for d in dirs:
                commits.update(pretrain_commits(d))
            for key, value in linear_and_nearest_neighbour(dirs[-1], args.preset).items():
                scores.setdefault(key, []).append(value)
        pretraining += seconds
        if not done_seeds:
            lines.append(f"| {variant} | {paper_linear} | not run yet | | "
                         f"{paper_knn or '–'} | not run yet | | |")
            continue
        base = {**common, "variant": variant, "seeds": done_seeds, "config": f"{CONFIGS}/"
                f"{config}.yaml", "pretrain_s_per_seed": round(seconds / len(done_seeds), 1)}
        linear = {**base, "protocol": "linear", "preset": args.preset, "epoch": "final",
                  "paper": paper_linear, **summary(scores["linear"])}
        best = {**base, "protocol": "linear", "preset": args.preset,
                "epoch": "best test epoch (optimistic)", "paper": paper_linear,
                **summary(scores["linear_best"])}
        knn = {**base, "protocol": "knn", "k": 1, "epoch": "final", "paper": paper_knn,
               **summary(scores["knn"])}
        rows += [linear, best, knn]
        lines.append(f"| {variant} | {paper_linear} | {cell(linear)} | {cell(best)} | "
                     f"{paper_knn or '–'} | {cell(knn)} | {len(done_seeds)} | "
                     f"{base['pretrain_s_per_seed'] / 60:.0f} min |")
    wall = round(time.perf_counter() - started + pretraining, 1)
    for row in rows:
        row.update(wall_time_s=wall, pretrain_commits=sorted(commits))
    markdown = [
        "# CRRL on NW-UCLA: Table VIII (fusion strategies)",
        "",
        f"Command: `{common['command']}` · commit `{common['commit']}` (pretraining: "
        f"{', '.join(sorted(commits))}) · machine: {common['machine']} · wall time {wall} s "
        "(pretraining included) · seeds: CRRL, CML and Rand-Enc "
        f"{args.seeds}, the other variants {args.variant_seeds}. {args.note}".rstrip(),
        "",
        "Configs `configs/crrl/nw-ucla*.yaml` (the paper's hyper-parameters): BiGRU 2 × 256 per "
        "direction, dropout 0.2, 512-d temporal-average features; CML: coordinates vs velocity "
        "MoCo, K 64, τ 0.1, m_enc 0.999, m_mlp 1.0, 100 epochs, lr 0.01; SER (+INF, λ_d 0.1): "
        "forward + reverse reconstruction, 60 epochs, lr 0.04; SGD momentum 0.9, wd 1e-4, batch "
        "32, lr ×0.5 at epochs 20 and 50. Data: views 1+2 train (1020), view 3 test (464); "
        "sequences longer than 50 frames keep 50 evenly spaced frames; each sample is turned "
        "into a view-invariant frame (first-frame centre joint at the origin, shoulders along x, "
        "spine in the x-y plane), then min-max scaled to [−1, 1] per coordinate (see "
        "docs/methods/crrl.md for why). CML-SER-joint uses CML's schedule (the paper does not "
        "give one).",
        "",
        f"Linear = `{args.preset}` probe (`crrl`: the CRRL protocol, Nesterov SGD lr 0.1, batch "
        "16, 85 epochs, ×0.5 at 15/35/50/66/75; `-std`: on features standardised with the "
        "training split's statistics, docs/training.md) on cached features of the frozen "
        "encoder; reported at the final epoch, the best "
        "test epoch beside it as an optimistic reference. 1-NN = cosine nearest neighbour. "
        "Rand-Enc = the BiGRU at its seeded initialisation. Values in parentheses are per seed.",
        "",
        "| variant | paper linear | linear (final epoch) | linear (best test epoch, optimistic) "
        "| paper 1-NN | 1-NN | seeds | pretraining per seed |",
        "|---|---|---|---|---|---|---|---|",
        *lines,
    ]
    write_results(args.out, args.topic, rows, markdown)


if __name__ == "__main__":
    main()
