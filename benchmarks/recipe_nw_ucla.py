"""Recipe search on the validation split: candidate settings × seeds, beside the floors.

Each candidate is a config plus overrides (``NAME,KEY=VALUE,...``). For every candidate and
seed the run pretrains on the train-val split (the validation subjects and the test view are
never seen) and is scored on the validation split (fit on train-val, score on val): 1-NN and
the linear probe ``--preset`` at the final epoch, the spread of the frozen val features, and
from training the final InfoNCE and the collapse monitor's query spread. The floors on the
same split come first: raw coordinates and random weights of the first candidate's config.
``--split test`` runs the chosen recipes the usual way instead (train split, test split), for
the final numbers once the search is over.

Runs resume, and each run's scores are kept in its ``recipe.json``, so that two invocations
with disjoint candidates can train side by side and a last one with all candidates reports.
Writes docs/results/<topic>.{json,md} and <topic>.png (loss and spread per epoch). From the
repository root:

    python benchmarks/recipe_nw_ucla.py --seeds 0 1 2 \\
        --candidate baseline --candidate "no-dropout,encoder.dropout=0"
    python benchmarks/recipe_nw_ucla.py --split test --topic quality-nw-ucla ...
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

from collapse_nw_ucla import training_rows
from floors import probe, raw_features
from results import cell, provenance, save_figure, summary, write_results

from skelssl.config import RunConfig, load_config
from skelssl.data.dataset import FITTING, VALIDATION
from skelssl.engine.trainer import pretrain
from skelssl.eval.knn import knn_predict
from skelssl.eval.metrics import top1
from skelssl.eval.protocol import cached_features, knn_eval, linear_probe, load_run
from skelssl.methods.collapse import embedding_spread


def parse_candidate(spec: str) -> tuple[str, list[str]]:
    name, *overrides = spec.split(",")
    return name, overrides


def scores(split: str) -> tuple[str, str]:
    return f"{split}_1nn", f"{split}_linear"


def candidate_config(path: Path, overrides: list[str], seed: int, split: str) -> RunConfig:
    config = load_config(path, overrides)
    config.seed = seed
    if split == VALIDATION:
        config.data.train_split = FITTING  # val subjects stay unseen
    return config


def train_and_score(path: Path, name: str, overrides: list[str], seed: int, runs: Path,
                    preset: str, split: str) -> list[dict]:
    """One row per stream of a (candidate, seed) run, from its recipe.json once measured."""
    run_dir = runs / f"{name}-seed{seed}"
    store = run_dir / "recipe.json"
    if store.is_file():
        return json.loads(store.read_text())
    config = candidate_config(path, overrides, seed, split)
    pretrain(config, run_dir, resume=True, progress=False)
    history = training_rows(run_dir)
    run = load_run(run_dir, split=split)
    nearest, linear = scores(split)
    single = len(run.encoders) == 1
    rows = []
    for stream in run.encoders:
        suffix = "" if single else f"_{stream}"
        rows.append({
            "candidate": name, "config": str(path), "overrides": overrides, "seed": seed,
            "stream": stream, "epochs": len(history),
            "loss": [row.get(f"loss{suffix}", row.get("loss")) for row in history],
            "spread": [row.get(f"spread{suffix}") for row in history],
            f"{split}_feature_spread": embedding_spread(
                cached_features(run, stream, run.config.data.test_split)).item(),
            nearest: knn_eval(run, stream, 1, 0.1)["top1"],
            linear: linear_probe(run, stream, preset, progress=False)["top1"],
            "pretrain_s": sum(row["epoch_time_s"] for row in history)})
    store.write_text(json.dumps(rows, indent=1))
    return rows


def split_floors(path: Path, overrides: list[str], seeds: list[int], runs: Path,
                 preset: str, split: str) -> dict[str, dict]:
    """Raw coordinates and random weights (one run per seed), scored on ``split``."""
    config = candidate_config(path, overrides, seeds[0], split)
    config.data.test_split = split
    features, labels = raw_features(config)
    classes = int(labels["train"].max()) + 1
    nearest = knn_predict(features["train"], labels["train"], features["test"], 1, classes)
    nearest_key, linear_key = scores(split)
    floors = {"raw coordinates": {nearest_key: [top1(nearest, labels["test"])],
                                  linear_key: [probe(features, labels, preset)]},
              "random weights": {nearest_key: [], linear_key: []}}
    for seed in seeds:
        run_dir = runs / f"random-seed{seed}"
        if not (run_dir / "encoder.pt").is_file():
            config = candidate_config(path, [*overrides, "train.epochs=0"], seed, split)
            pretrain(config, run_dir, progress=False)
        run = load_run(run_dir, "random", split=split)
        stream = next(iter(run.encoders))
        floors["random weights"][nearest_key].append(knn_eval(run, stream, 1, 0.1)["top1"])
        floors["random weights"][linear_key].append(
            linear_probe(run, stream, preset, progress=False)["top1"])
    return floors


def plot(rows: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(1, 2, figsize=(12, 3.6))
    names = list(dict.fromkeys(row["candidate"] for row in rows))
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for row in rows:
        colour = colours[names.index(row["candidate"]) % len(colours)]
        label = row["candidate"] if row["seed"] == min(
            r["seed"] for r in rows if r["candidate"] == row["candidate"]) else None
        for axis, key in zip(axes, ("loss", "spread"), strict=True):
            axis.plot(range(1, row["epochs"] + 1), row[key], color=colour, alpha=0.7,
                      label=label)
    axes[0].set(xlabel="epoch", title="InfoNCE (training)")
    axes[1].set(xlabel="epoch", title="query spread (training)")
    axes[0].legend(fontsize=7)
    save_figure(figure, path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, default=Path("configs/skeletonclr/nw-ucla.yaml"))
    parser.add_argument("--candidate", action="append", default=[], metavar="NAME[,KEY=VALUE]",
                        help="a recipe to try, repeatable; the first one's config gives the "
                             "floors")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--preset", default="crrl-std", help="the dataset's linear probe")
    parser.add_argument("--split", choices=(VALIDATION, "test"), default=VALIDATION,
                        help="val: the search (train-val → val); test: the final numbers")
    parser.add_argument("--no-floors", action="store_true", help="train and score only")
    parser.add_argument("--runs", type=Path, default=None,
                        help="default: runs/recipe-nw-ucla-<split>")
    parser.add_argument("--topic", default="recipe-nw-ucla")
    parser.add_argument("--note", default="")
    parser.add_argument("--out", type=Path, default=Path("docs/results"))
    args = parser.parse_args()
    candidates = [parse_candidate(spec) for spec in args.candidate or ["baseline"]]
    split, runs = args.split, args.runs or Path(f"runs/recipe-nw-ucla-{args.split}")
    started = time.perf_counter()
    measured = [row for name, overrides in candidates for seed in args.seeds
                for row in train_and_score(args.config, name, overrides, seed, runs,
                                           args.preset, split)]
    if args.no_floors:
        return
    floors = split_floors(args.config, candidates[0][1], args.seeds, runs, args.preset, split)
    common = {**provenance(), "protocol": f"{split} split, {args.preset} linear and 1-NN",
              "seeds": args.seeds, "wall_time_s": round(time.perf_counter() - started, 1)}
    table = []
    for floor, values in floors.items():
        table.append(f"| {floor} | – | – | – | – | "
                     + " | ".join(cell(summary(values[key])) for key in scores(split))
                     + " | – |")
    for name, overrides in candidates:
        mine = [row for row in measured if row["candidate"] == name]
        final_loss = summary([row["loss"][-1] for row in mine])
        lowest = summary([min(s for s in row["spread"] if s is not None) for row in mine])
        feature = summary([row[f"{split}_feature_spread"] for row in mine])
        minutes = statistics.mean(row["pretrain_s"] for row in mine) / 60
        table.append(f"| {name} | {' '.join(overrides) or '–'} | {cell(final_loss, 2)} | "
                     f"{cell(lowest, 2)} | {cell(feature, 2)} | "
                     + " | ".join(cell(summary([row[key] for row in mine]))
                                  for key in scores(split))
                     + f" | {minutes:.0f} |")
    rows = [{**common, **row} for row in measured] + [
        {**common, "floor": floor, **{key: summary(v) for key, v in values.items()}}
        for floor, values in floors.items()]
    args.out.mkdir(parents=True, exist_ok=True)
    plot(measured, args.out / f"{args.topic}.png")
    searched = split == VALIDATION
    data = ("pretrained on train-val (the validation subjects and the test view are never "
            "seen), scored on val: fit on train-val, score on val" if searched else
            "pretrained on the config's training split, scored on its test split")
    markdown = [
        "# Recipe search on the validation split" if searched else
        f"Recipes on the test split: {', '.join(name for name, _ in candidates)}",
        "",
        f"Command: `{common['command']}` · commit `{common['commit']}` · machine: "
        f"{common['machine']} · wall time {common['wall_time_s']} s · seeds {args.seeds}. "
        f"{args.note}",
        "",
        f"Config `{args.config}` with each candidate's overrides, {data}, final epoch; linear "
        f"= the `{args.preset}` probe. Loss: the final epoch's InfoNCE; lowest spread: the "
        "collapse monitor's query spread at its lowest epoch; feature spread: of the frozen "
        f"{split} features (≈ 1 spread evenly, 0 collapsed). Cells: mean ± std (per seed).",
        "",
        f"![loss and spread per epoch]({args.topic}.png)",
        "",
        "| candidate | overrides | final InfoNCE | lowest query spread "
        f"| feature spread ({split}) | 1-NN {split} | linear {split} | pretrain min/run |",
        "|---|---|---|---|---|---|---|---|",
        *table,
    ]
    write_results(args.out, args.topic, rows, markdown)
    print("\n".join(markdown))


if __name__ == "__main__":
    main()
