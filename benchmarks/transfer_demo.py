"""Transfer demonstration on data at hand: pretrain on the synthetic set, evaluate on NW-UCLA.

Two paths, each beside its floors on the same target (random weights of the same encoder, raw
coordinates):
- 3-D: SkeletonCLR pretrained on the synthetic set (``ntu25``), NW-UCLA mapped onto ``ntu25``
  by joint names (``prepare relayout``), linear probe and 1-NN on NW-UCLA's view-3 test split.
- 2-D: the same on 2-D keypoints: the synthetic set's ``--dims 2`` and NW-UCLA projected
  through the same pinhole camera (``prepare relayout --project``).

A demonstration of the transfer protocol, not a paper number. Runs resume; results go to
docs/results/transfer.{json,md}. From the repository root:

    python benchmarks/transfer_demo.py --nw-ucla data/nw-ucla --work runs/transfer-demo
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from floors import raw_floor
from results import provenance, write_results

from skelssl.config import apply_overrides, load_config, read_yaml
from skelssl.data.prepare import PrepareOptions, prepare
from skelssl.engine.run_dir import LAST_CHECKPOINT
from skelssl.engine.trainer import pretrain
from skelssl.eval.protocol import knn_eval, linear_probe, load_run
from skelssl.eval.transfer import check_target

PRESET = "crrl-std"
CONFIG = Path("configs/skeletonclr/nw-ucla.yaml")  # the NW-UCLA recipe, on synthetic data


def source_config(data: Path, epochs: int, seed: int) -> dict:
    """The NW-UCLA SkeletonCLR recipe pretraining on the synthetic set (cross-subject
    training part, both persons), its warm-up and learning-rate milestones scaled to
    ``epochs``."""
    recipe = read_yaml(CONFIG)
    scale = epochs / recipe["train"]["epochs"]
    milestones = [round(m * scale) for m in recipe["train"]["milestones"]]
    return apply_overrides(recipe, [
        f"data.path={data}", "data.benchmark=xsub", "data.persons=2",
        f"train.epochs={epochs}", f"train.milestones={milestones}".replace(" ", ""),
        f"train.warmup_epochs={round(recipe['train']['warmup_epochs'] * scale)}",
        f"seed={seed}"])


def target_scores(run_dir: Path, target: Path, weights: str) -> dict[str, float]:
    """Linear probe and 1-NN of the run's joint encoder on the target's view-3 split."""
    check_target(run_dir, target)
    run = load_run(run_dir, weights, str(target), benchmark="view3")
    return {"linear": linear_probe(run, "joint", PRESET, progress=False)["top1"],
            "knn": knn_eval(run, "joint", 1, 0.1)["top1"]}


def raw_scores(run_dir: Path, target: Path) -> dict[str, float]:
    """The raw-coordinate floor of the target under the run's preprocessing."""
    config = load_config(run_dir / "config.yaml")
    config.data.path, config.data.benchmark = str(target), "view3"
    config.data.train_split, config.data.test_split = "train", "test"
    floor = raw_floor(config, PRESET, draws=1)
    return {"linear": floor["linear"]["values"][0], "knn": floor["knn"]["values"][0]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--nw-ucla", type=Path, default=Path("data/nw-ucla"))
    parser.add_argument("--work", type=Path, default=Path("runs/transfer-demo"))
    parser.add_argument("--epochs", type=int, default=60)
    parser.add_argument("--per-class", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=Path("docs/results"))
    args = parser.parse_args()
    started = time.perf_counter()
    rows = []
    for dims in (3, 2):
        source, _ = prepare("synthetic", args.work / f"synthetic-{dims}d", PrepareOptions(
            per_class=args.per_class, seed=0, dims=dims))
        target, _ = prepare("relayout", args.work / f"nw-ucla-ntu25-{dims}d", PrepareOptions(
            raw=args.nw_ucla, layout="ntu25", project=dims == 2))
        run_dir = args.work / f"skeletonclr-synthetic-{dims}d-seed{args.seed}"
        pretrain(load_config(source_config(source, args.epochs, args.seed)), run_dir,
                 resume=(run_dir / LAST_CHECKPOINT).is_file(), progress=False)
        for name, scores in (("pretrained on synthetic", target_scores(run_dir, target,
                                                                       "trained")),
                             ("random weights", target_scores(run_dir, target, "random")),
                             ("raw coordinates", raw_scores(run_dir, target))):
            rows.append({**provenance(), "path": f"{dims}-D", "features": name,
                         "source": f"synthetic ({args.per_class} per class, xsub train)",
                         "target": "NW-UCLA view3 (mapped onto ntu25"
                                   + (", projected to 2-D)" if dims == 2 else ")"),
                         "epochs": args.epochs, "seed": args.seed, "preset": PRESET,
                         **{k: round(v, 2) for k, v in scores.items()}})
    wall = time.perf_counter() - started
    lines = ["# Transfer demonstration: synthetic → NW-UCLA (not a paper number)", "",
             f"Command: `{rows[0]['command']}` · commit `{rows[0]['commit']}` · machine: "
             f"{rows[0]['machine']} · wall time {wall:.0f} s · seed {args.seed}.", "",
             f"SkeletonCLR with the NW-UCLA recipe ({CONFIG}) pretrained for {args.epochs} "
             "epochs on the synthetic set's cross-subject training part, then frozen and "
             "evaluated on NW-UCLA's view-3 benchmark after `skelssl prepare relayout` mapped "
             "its 20 joints onto `ntu25` (missing joints from their nearest ancestor) — and the "
             "same on 2-D keypoints (`--dims 2`, NW-UCLA projected with `--project`). Linear = "
             f"`{PRESET}` probe, final epoch; 1-NN = cosine nearest neighbour; the floors use "
             "the same target data and preprocessing.", "",
             "| path | features | linear | 1-NN |", "|---|---|---|---|"]
    lines += [f"| {r['path']} | {r['features']} | {r['linear']:.1f} | {r['knn']:.1f} |"
              for r in rows]
    for row in rows:
        row["wall_time_s"] = round(wall, 1)
    write_results(args.out, "transfer", rows, lines)


if __name__ == "__main__":
    main()
