"""Stalled seeds: how a contrastive run's embeddings spread over its first epochs, per seed.

Trains a config on the train-val split for its first ``--epochs`` epochs (its own schedule,
resumable: the runs can be continued to the full schedule later) for several seeds, one epoch
at a time, and after each epoch records, per stream:

- from training (metrics.csv): the InfoNCE loss and the collapse monitor's spread and mean
  cosine of the query embeddings (the batch means over the epoch);
- on the validation split (``--split val``: fit on train-val, score on val; the test view is
  never read): the spread and mean cosine of the frozen encoder's features, and 1-NN top-1;
- the spread and mean cosine of the keys in the method's queue (the negatives).

Writes docs/results/<topic>.{json,md} and <topic>.png. From the repository root:

    python benchmarks/collapse_nw_ucla.py --seeds 0 1 2 3 4 5 --epochs 10
"""

from __future__ import annotations

import argparse
import csv
import json
import time
from pathlib import Path

from results import page_arguments, provenance, save_figure, write_results

from skelssl.config import load_config
from skelssl.data.dataset import FITTING
from skelssl.engine.checkpoint import load_checkpoint
from skelssl.engine.trainer import pretrain
from skelssl.eval.protocol import LoadedRun, cached_features, knn_eval, load_run
from skelssl.methods.collapse import embedding_spread, mean_cosine

TRAINING = ("loss", "spread", "cosine")
QUEUE = ("queue_spread", "queue_cosine")


def training_rows(run_dir: Path) -> list[dict[str, float]]:
    with open(run_dir / "metrics.csv", newline="") as handle:
        return [{k: float(v) for k, v in row.items() if v != ""}
                for row in csv.DictReader(handle)]


def stream_key(name: str, stream: str, single: bool) -> str:
    """``loss``/``spread``/``cosine`` of a single-stream run, ``<name>_<stream>`` otherwise."""
    return name if single else f"{name}_{stream}"


def measure_epoch(run_dir: Path, epoch: int) -> list[dict]:
    """One row per stream after ``epoch`` epochs; epoch 0: the random-weights floor (the
    seeded initialisation, BatchNorm statistics from the inputs), without training numbers."""
    if epoch == 0:
        run = load_run(run_dir, "random", split="val")
        return [{"epoch": 0, "stream": stream, **dict.fromkeys(TRAINING),
                 **feature_numbers(run, stream), **dict.fromkeys(QUEUE)}
                for stream in run.encoders]
    run = load_run(run_dir, split="val")
    if run.encoder_epoch != epoch:
        raise SystemExit(f"{run_dir} holds epoch {run.encoder_epoch}: epoch {epoch} can no "
                         "longer be measured (remove the run to measure it again)")
    queues = {key.split(".")[-3] if key.count(".") > 1 else "": value
              for key, value in load_checkpoint(run_dir / "last.pt")["method"].items()
              if key.endswith("queue.keys")}
    history = training_rows(run_dir)[epoch - 1]
    single = len(run.encoders) == 1
    rows = []
    for stream in run.encoders:
        queue = queues.get(stream, next(iter(queues.values())) if single else None)
        rows.append({
            "epoch": epoch, "stream": stream,
            **{name: history.get(stream_key(name, stream, single)) for name in TRAINING},
            **feature_numbers(run, stream),
            "queue_spread": None if queue is None else embedding_spread(queue).item(),
            "queue_cosine": None if queue is None else mean_cosine(queue).item()})
    return rows


def feature_numbers(run: LoadedRun, stream: str) -> dict[str, float]:
    """Spread and mean cosine of the frozen features of the val split, and 1-NN on it."""
    features = cached_features(run, stream, "val")
    return {"val_feature_spread": embedding_spread(features).item(),
            "val_feature_cosine": mean_cosine(features).item(),
            "val_1nn": knn_eval(run, stream, 1, 0.1)["top1"]}


def train_and_measure(config_path: Path, overrides: list[str], seed: int, epochs: int,
                      runs: Path) -> list[dict]:
    """Rows of one seed, epoch by epoch. Each epoch is measured right after it is trained
    (encoder.pt holds only the latest epoch) and stored in the run's collapse.json, so that
    an interrupted benchmark resumes both."""
    config = load_config(config_path, overrides)
    config.seed, config.data.train_split = seed, FITTING  # val subjects stay unseen
    run_dir = runs / f"seed{seed}"
    store = run_dir / "collapse.json"
    rows = json.loads(store.read_text()) if store.is_file() else []
    for epoch in range(1, epochs + 1):
        pretrain(config, run_dir, resume=True, until_epoch=epoch, progress=False)
        for measured in (0, 1) if epoch == 1 else (epoch,):  # 0: random weights, same seed
            if any(row["epoch"] == measured for row in rows):
                continue
            rows += [{"config": str(config_path), "overrides": overrides, "seed": seed, **row}
                     for row in measure_epoch(run_dir, measured)]
            store.write_text(json.dumps(rows, indent=1))
        print(f"seed {seed} epoch {epoch}: val 1-NN {rows[-1]['val_1nn']:.1f}", flush=True)
    return [row for row in rows if row["epoch"] <= epochs]


def plot(rows: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = [("loss", "InfoNCE (training)"), ("spread", "query spread (training)"),
              ("val_feature_spread", "feature spread (val)"), ("val_1nn", "1-NN top-1 (val)")]
    figure, axes = plt.subplots(1, len(panels), figsize=(16, 3.4))
    curves = sorted({(row["seed"], row["stream"]) for row in rows})
    for axis, (key, title) in zip(axes, panels, strict=True):
        for seed, stream in curves:
            mine = [row for row in rows if (row["seed"], row["stream"]) == (seed, stream)]
            axis.plot([row["epoch"] for row in mine],
                      [float("nan") if row[key] is None else row[key] for row in mine],
                      label=f"seed {seed}" + ("" if stream == "joint" else f" {stream}"))
        axis.set(xlabel="epoch", title=title)
    axes[0].legend(fontsize=7)
    save_figure(figure, path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, default=Path("configs/skeletonclr/nw-ucla.yaml"))
    parser.add_argument("--set", dest="overrides", action="append", default=[],
                        metavar="KEY=VALUE", help="config override, repeatable (a recipe to try)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4, 5])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--runs", type=Path, default=Path("runs/collapse-nw-ucla"))
    page_arguments(parser, "collapse-nw-ucla")
    args = parser.parse_args()
    started = time.perf_counter()
    measured = [row for seed in args.seeds
                for row in train_and_measure(args.config, args.overrides, seed, args.epochs,
                                            args.runs)]
    common = {**provenance(), "protocol": "collapse monitor", "seeds": args.seeds,
              "wall_time_s": round(time.perf_counter() - started, 1)}
    rows = [{**common, **row} for row in measured]
    args.out.mkdir(parents=True, exist_ok=True)
    plot(measured, args.out / f"{args.topic}.png")
    columns = (*TRAINING, "val_feature_spread", "val_feature_cosine", *QUEUE)
    lines = [f"| {r['seed']} | {r['stream']} | {r['epoch'] or '0 (random)'} | "
             + " | ".join("–" if r[key] is None else f"{r[key]:.3f}" for key in columns)
             + f" | {r['val_1nn']:.1f} |"
             for r in measured if r["epoch"] in (1, 2, 3, 5) or r["epoch"] % 5 == 0]
    recipe = f" with `{' '.join(args.overrides)}`" if args.overrides else ""
    markdown = [
        f"# Collapse monitor over the first {args.epochs} epochs, per seed",
        "",
        f"Command: `{common['command']}` · commit `{common['commit']}` · machine: "
        f"{common['machine']} · wall time {common['wall_time_s']} s · seeds {args.seeds}. "
        f"{args.note}",
        "",
        f"Config `{args.config}`{recipe}, trained on its own schedule on the train-val split "
        "(the validation subjects and the test view are never seen in pretraining); "
        "measurements fit on train-val and score on val. Spread: √d × mean per-dimension "
        "standard deviation of "
        "L2-normalised vectors (≈ 1 spread evenly over the sphere, 0 collapsed); cosine: "
        "mean cosine between distinct vectors. Query: the projected query embeddings of "
        "training (epoch means); feature: the frozen encoder's features of the val split; "
        "queue: the negatives held after the epoch.",
        "",
        f"![curves]({args.topic}.png)",
        "",
        "| seed | stream | epoch | InfoNCE | query spread | query cosine | feature spread (val) "
        "| feature cosine (val) | queue spread | queue cosine | 1-NN val |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
        *lines,
    ]
    write_results(args.out, args.topic, rows, markdown)


if __name__ == "__main__":
    main()
