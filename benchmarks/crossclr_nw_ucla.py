"""CrosSCLR on NW-UCLA: the analogue of the paper's Table 1 (single streams and ensembles).

Per seed, one 3-stream run trains configs/crossclr/nw-ucla.yaml up to its mining epoch (until
then CrosSCLR *is* three independent SkeletonCLRs on shared batches); the run is then copied,
and the copy goes on with `method.mining: none` (independent SkeletonCLRs) while the original
goes on with cross-view mining. Both are evaluated per stream (linear, final epoch, by the
CrosSCLR protocol and by the CRRL protocol; 1-NN and 20-NN) and as 2s (joint + motion) and 3s
ensembles (weights 0.6/0.4/0.6).
Writes docs/results/crossclr-nw-ucla.{json,md}. From the repository root, after
`skelssl prepare nw-ucla --raw .../all_sqe --out data/nw-ucla`:

    python benchmarks/crossclr_nw_ucla.py --seeds 0 1 2
    python benchmarks/crossclr_nw_ucla.py --seeds 0 --epochs 20   # a CPU-session schedule
    python benchmarks/crossclr_nw_ucla.py --no-train      # evaluates the runs already there
"""

from __future__ import annotations

import argparse
import itertools
import json
import shutil
import time
from dataclasses import asdict
from pathlib import Path

import torch
from results import cell, pretrain_commits, pretrain_seconds, provenance, summary, write_results

from skelssl.config import RunConfig, load_config
from skelssl.engine.checkpoint import finished_epochs
from skelssl.engine.trainer import pretrain
from skelssl.eval.ensemble import DEFAULT_WEIGHTS, ensemble_eval
from skelssl.eval.protocol import knn_eval, load_run, write_result

CONFIG = Path("configs/crossclr/nw-ucla.yaml")
FAMILIES = {"CrosSCLR": "cross", "SkeletonCLR": "none"}  # variant family → method.mining
STREAMS = ("joint", "motion", "bone")
ENSEMBLES = {"2s": "joint+motion", "3s": "joint+motion+bone"}
# The paper's linear protocol, and CRRL's (small lr), which converges on NW-UCLA's features,
# raw and standardised (docs/training.md).
PRESETS = ("crossclr", "crrl", "crrl-std")
# How often two streams' probes predict the same class: what an ensemble can gain shrinks as
# the streams agree.
AGREEMENT_PRESET = "crrl-std"
PAIRS = list(itertools.combinations(STREAMS, 2))
# The paper's NTU-60 linear numbers (xsub / xview), for reference only.
PAPER_NTU60 = {"SkeletonCLR-joint": "68.3 / 76.4", "CrosSCLR-joint": "72.9 / 79.9",
               "CrosSCLR-motion": "72.7 / 77.6", "CrosSCLR-bone": "75.2 / 78.8",
               "3s-CrosSCLR": "77.8 / 83.4"}


def schedule(epochs: int | None) -> list[str]:
    """Overrides for a shorter schedule with the config's ratios (mining from the half, lr
    drop after 5/6 of the epochs); none for the config's own schedule."""
    if epochs is None:
        return []
    return [f"train.epochs={epochs}", f"method.mining_epoch={epochs // 2}",
            f"train.milestones=[{round(epochs * 5 / 6)}]"]


def train(config_path: Path, runs: Path, seed: int, overrides: list[str]) -> None:
    """Shared first half, then the two continuations (each resumes exactly where it stopped)."""
    config = load_config(config_path, [f"seed={seed}", *overrides])
    switch = config.method.mining_epoch
    cross, independent = (runs / f"{family}-seed{seed}" for family in FAMILIES)
    if not independent.exists():
        if (finished_epochs(cross) or 0) < switch:
            pretrain(config, cross, resume=True, until_epoch=switch)
        if finished_epochs(cross) != switch:
            raise RuntimeError(f"{cross} is past epoch {switch}: cannot branch "
                               f"{independent} from it; delete one of them")
        shutil.copytree(cross, independent, ignore=shutil.ignore_patterns("features", "results"))
    for family, mining in FAMILIES.items():
        pretrain(load_config(config_path, [f"seed={seed}", *overrides,
                                           f"method.mining={mining}"]),
                 runs / f"{family}-seed{seed}", resume=True)


def encoder_text(config: RunConfig) -> str:
    """The encoder's name and settings, as written in the config."""
    settings = asdict(config.encoder)
    name = settings.pop("name")
    return f"{name} ({', '.join(f'{key} {value}' for key, value in settings.items())})"


def fit_text(scores: dict[str, dict[str, list[float]]]) -> str:
    """The range of the probes' final training loss per preset, over runs and streams."""
    parts = []
    for preset in PRESETS:
        losses = [loss for family in scores.values() for stream in STREAMS
                  for loss in family.get(f"{stream}/{preset}/train_loss", [])]
        if losses:
            parts.append(f"{preset} {min(losses):.2f}–{max(losses):.2f}")
    return ", ".join(parts)


def evaluate(run_dir: Path) -> dict[str, float]:
    """Per-stream linear and kNN, and the ensembles, of one run (results also in the run)."""
    run = load_run(run_dir)
    scores = {}
    for preset in PRESETS:
        ensemble = ensemble_eval([run], preset)
        probes = ensemble.pop("probes")
        for stream, probe in probes.items():
            write_result(run, probe)
            scores[f"{stream}/{preset}/train_loss"] = probe["train_loss"][-1]
        if preset == AGREEMENT_PRESET:
            for a, b in PAIRS:
                same = torch.tensor(probes[a]["predictions"]) == torch.tensor(
                    probes[b]["predictions"])
                scores[f"{a}+{b}/agreement"] = 100 * same.float().mean().item()
        (run.run_dir / "results" / f"ensemble-{preset}.json").write_text(
            json.dumps(ensemble, indent=1))
        for stream, top1 in ensemble["streams"].items():
            scores[f"{stream}/{preset}"] = top1
        for short, streams in ENSEMBLES.items():
            scores[f"{short}/{preset}"] = ensemble["ensembles"][streams]
    for stream in STREAMS:
        for k in (1, 20):
            result = knn_eval(run, stream, k, run.config.eval.knn_temperature)
            write_result(run, result)
            scores[f"{stream}/knn{k}"] = result["top1"]
    return scores


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--config", type=Path, default=CONFIG,
                        help="a crossclr config (e.g. configs/crossclr/nw-ucla-lstm.yaml)")
    parser.add_argument("--epochs", type=int, default=None,
                        help="a shorter schedule (mining from the half, lr ×0.1 after 5/6)")
    parser.add_argument("--no-train", action="store_true", help="evaluate existing runs only")
    parser.add_argument("--runs", type=Path, default=Path("runs/crossclr-nw-ucla"))
    parser.add_argument("--out", type=Path, default=Path("docs/results"))
    parser.add_argument("--note", default="", help="a sentence on how the runs were made")
    parser.add_argument("--name", default="crossclr-nw-ucla",
                        help="results file name (one per schedule)")
    args = parser.parse_args()
    started = time.perf_counter()
    overrides = schedule(args.epochs)
    config = load_config(args.config, overrides)
    scores: dict[str, dict[str, list[float]]] = {family: {} for family in FAMILIES}
    done: dict[str, list[int]] = {family: [] for family in FAMILIES}
    commits, pretraining = set(), 0.0
    for seed in args.seeds:
        if not args.no_train:
            train(args.config, args.runs, seed, overrides)
        for family in FAMILIES:
            run_dir = args.runs / f"{family}-seed{seed}"
            if finished_epochs(run_dir) != config.train.epochs:
                continue
            done[family].append(seed)
            commits.update(pretrain_commits(run_dir))
            pretraining += pretrain_seconds(run_dir)
            for key, value in evaluate(run_dir).items():
                scores[family].setdefault(key, []).append(value)
    wall = round(time.perf_counter() - started + pretraining, 1)
    common = {**provenance(), "method": "crossclr", "dataset": "nw-ucla", "split": "view3",
              "metric": "top1", "epoch": "final", "config": str(args.config),
              "schedule": f"{config.train.epochs} epochs, mining from epoch "
                          f"{config.method.mining_epoch}, lr ×0.1 after epoch "
                          f"{config.train.milestones[0]}", "wall_time_s": wall}
    rows, lines = [], []
    stgcn = config.encoder.name == "stgcn"
    paper = PAPER_NTU60 if stgcn else {}  # those numbers are ST-GCN encoders
    agreement = []
    for family, mining in FAMILIES.items():
        if not done[family]:
            lines.append(f"| {family} | not run yet | | | | | |")
            continue
        base = {**common, "seeds": done[family], "mining": mining}
        for a, b in PAIRS:
            rows.append({**base, "variant": f"{family}-{a}+{b}", "protocol": "agreement",
                         "preset": AGREEMENT_PRESET, "paper": None,
                         **summary(scores[family][f"{a}+{b}/agreement"])})
            agreement.append(f"| {family} | {a} / {b} | {cell(rows[-1])} |")
        for part in (*STREAMS, *ENSEMBLES):
            ensemble = part in ENSEMBLES
            variant = f"{part}-{family}" if ensemble else f"{family}-{part}"
            linear = {}
            for preset in PRESETS:
                linear[preset] = {**base, "variant": variant, "protocol": "linear",
                                  "paper": None, "preset": preset,
                                  **summary(scores[family][f"{part}/{preset}"])}
                if ensemble:
                    linear[preset]["weights"] = {s: DEFAULT_WEIGHTS[s]
                                                 for s in ENSEMBLES[part].split("+")}
                rows.append(linear[preset])
            knn = {}
            if not ensemble:
                for k in (1, 20):
                    knn[k] = {**base, "variant": variant, "protocol": "knn", "k": k,
                              "paper": None, **summary(scores[family][f"{part}/knn{k}"])}
                    rows.append(knn[k])
            lines.append(f"| {variant} | " + " | ".join(cell(linear[p]) for p in PRESETS) +
                         f" | {cell(knn[1]) if knn else '–'} | {cell(knn[20]) if knn else '–'} | "
                         f"{paper.get(variant, '–')} |")
    markdown = [
        f"# CrosSCLR on NW-UCLA, {config.encoder.name} encoders: single streams and ensembles "
        f"(the paper's Table {1 if stgcn else 5} analogue)",
        "",
        f"Command: `{common['command']}` · commit `{common['commit']}` (pretraining: "
        f"{', '.join(sorted(commits)) or '–'}) · machine: {common['machine']} · wall time "
        f"{wall} s (pretraining included) · seeds: CrosSCLR {done['CrosSCLR']}, SkeletonCLR "
        f"{done['SkeletonCLR']}. {args.note}".rstrip(),
        "",
        f"Config `{args.config}`: {encoder_text(config)} per stream, queue 256, τ 0.07, m 0.99, "
        "shear 0.5, crop padding ratio 6, batch 64, SGD lr 0.1; schedule: "
        f"{common['schedule']} (mining from the half: the paper's 150 of 300); top-1 mining "
        "with embedding context. Data: views 1+2 train (1020), view 3 test (464), the "
        "shoulder-centre joint subtracted per frame, shoulders aligned with x, valid frames "
        "resized to 50. SkeletonCLR = the same run continued from the mining epoch without "
        "mining (three independent SkeletonCLRs: up to that epoch the two runs are one).",
        "",
        "Linear, on cached features of the frozen encoder, final epoch: the CrosSCLR protocol "
        "(SGD lr 3.0, batch 128, 100 epochs, ×0.1 at 80) and the CRRL protocol (Nesterov SGD "
        "lr 0.1, batch 16, 85 epochs), the latter also on features standardised per dimension "
        "with the training split's statistics (`crrl-std`, docs/training.md). Final training "
        f"cross-entropy of the probes over all runs and streams: {fit_text(scores)}. A probe "
        "that has not fitted its training set measures the optimiser rather than the "
        "features; compare the column whose probes fit. Ensembles sum the "
        "streams' final logits with weights joint 0.6, motion 0.4, bone 0.6 (2s = joint + "
        "motion). kNN on L2-normalised features (20-NN weighted, T 0.1). The paper reports "
        "NTU only; its NTU-60 xsub / xview linear numbers are shown for reference, not as targets.",
        "",
        "| variant | linear, CrosSCLR protocol | linear, CRRL protocol | linear, CRRL protocol, "
        "standardised features | 1-NN | 20-NN | paper NTU-60 xsub / xview (linear) |",
        "|---|---|---|---|---|---|---|",
        *lines,
        "",
        f"Agreement between streams: % of test sequences on which two streams' {AGREEMENT_PRESET} "
        "probes predict the same class (an ensemble gains less the more its streams agree).",
        "",
        "| variant | streams | agreement % |",
        "|---|---|---|",
        *agreement,
    ]
    write_results(args.out, args.name, rows, markdown)


if __name__ == "__main__":
    main()
