"""Recipe search on the validation split: candidate settings × seeds, beside the floors.

Each candidate is a config plus overrides (``NAME[,config=PATH],KEY=VALUE,...``; the config is
``--config`` unless named, and may be a pipeline such as CRRL's). For every candidate and
seed the run pretrains on the train-val split (the validation subjects and the test view are
never seen) and is scored on the validation split (fit on train-val, score on val): 1-NN and
the linear probe ``--preset`` at the final epoch, the spread of the frozen val features, and
from training the final loss and the collapse monitor's query spread. The floors on the
same split come first: raw coordinates and random weights of the first candidate's config (or
of ``--floor-config``). ``--jobs N`` trains N runs at a time in their own processes: one GPU
holds many of these small runs.
``--split test`` runs the chosen recipes the usual way instead (train split, test split), for
the final numbers once the search is over.

``--share-stage "actclr:aimclr=aimclr"`` makes a pipeline's first stage another candidate's
finished run of the same seed (a search over ActCLR's second stage on one AimCLR run).

Runs resume, and each run's scores are kept in its ``recipe.json``, so that two invocations
with disjoint candidates can train side by side and a last one with all candidates reports.
Writes docs/results/<topic>.{json,md} and <topic>.png (loss and spread per epoch). From the
repository root:

    python benchmarks/recipe_nw_ucla.py --seeds 0 1 2 \\
        --candidate baseline --candidate "no-dropout,encoder.dropout=0"
    python benchmarks/recipe_nw_ucla.py --jobs 8 --runs runs/recipe-crrl \\
        --floor-config configs/crrl/nw-ucla-rand-enc.yaml \\
        --candidate "crrl,config=configs/crrl/nw-ucla.yaml" ...
    python benchmarks/recipe_nw_ucla.py --split test --topic quality-nw-ucla ...
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path

import torch
from collapse_nw_ucla import training_rows
from floors import probe, random_run, raw_features
from results import (
    cell,
    page_arguments,
    pretrain_seconds,
    provenance,
    save_figure,
    setting_name,
    split_items,
    summary,
    write_results,
)

from skelssl.config import apply_overrides, load_config, read_yaml
from skelssl.data.dataset import FITTING, VALIDATION
from skelssl.engine.pipeline import is_pipeline, run_pipeline
from skelssl.engine.run_dir import final_stage_dir, machine
from skelssl.engine.trainer import pretrain
from skelssl.eval.knn import knn_predict
from skelssl.eval.metrics import top1
from skelssl.eval.protocol import cached_features, knn_eval, linear_probe, load_run
from skelssl.methods.collapse import embedding_spread


@dataclass(frozen=True)
class Candidate:
    """A recipe to try: a config (single run or pipeline) and its overrides."""

    name: str
    config: Path
    overrides: tuple[str, ...]
    spec: str


SCORES = "recipe.json"  # a run's scores, written once it is measured


def parse_candidate(spec: str, default_config: Path) -> Candidate:
    """``NAME[,config=PATH][,KEY=VALUE...]`` → a candidate."""
    name, *rest = split_items(spec)
    configs = [item.partition("=")[2] for item in rest if item.startswith("config=")]
    overrides = tuple(item for item in rest if not item.startswith("config="))
    return Candidate(name, Path(configs[-1]) if configs else default_config, overrides, spec)


def best_candidate(candidates: list[Candidate], measured: list[dict], split: str) -> Candidate:
    """The search's rule: the highest mean over seeds of (1-NN + linear) / 2 on ``split``."""
    def score(candidate: Candidate) -> float:
        return statistics.mean(sum(row[key] for key in scores(split)) / 2
                               for row in measured if row["candidate"] == candidate.name)
    return max(candidates, key=score)


def scores(split: str) -> tuple[str, str]:
    return f"{split}_1nn", f"{split}_linear"


def candidate_values(path: Path, overrides: list[str] | tuple[str, ...], seed: int,
                     split: str) -> dict:
    """The config's values with the overrides, the seed and (for val) the fitting split."""
    fitting = [f"data.train_split={FITTING}"] if split == VALIDATION else []
    return apply_overrides(read_yaml(path), [*overrides, f"seed={seed}", *fitting])


def run_path(runs: Path, name: str, seed: int) -> Path:
    """Where candidate ``name`` trains seed ``seed`` in ``runs``."""
    return runs / f"{name}-seed{seed}"


def is_scored(runs: Path, name: str, seed: int) -> bool:
    """Whether that run has finished and been scored (its ``recipe.json``)."""
    return (run_path(runs, name, seed) / SCORES).is_file()


def train_and_score(candidate: Candidate, seed: int, runs: Path, preset: str, split: str,
                    side_by_side: bool = False, isc: bool = False) -> list[dict]:
    """One row per stream of a (candidate, seed) run, from its recipe.json once measured.

    A pipeline trains all its stages; its last stage is scored, as ``skelssl eval`` does.
    Runs side by side read their batches in their own process (``data.workers=0``): reader
    processes for each of them, respawned every epoch, would swamp the CPU. ``isc`` adds
    ISC's protocols to each row (:func:`with_isc_protocols`), also to runs scored before."""
    run_dir = run_path(runs, candidate.name, seed)
    store = run_dir / SCORES
    if store.is_file():
        rows = json.loads(store.read_text())
        if isc and any(isc_keys(split)[0] not in row for row in rows):
            rows = with_isc_protocols(run_dir, rows, split)
            store.write_text(json.dumps(rows, indent=1))
        return rows
    readers = ["data.workers=0"] if side_by_side else []
    values = candidate_values(candidate.config, [*candidate.overrides, *readers], seed, split)
    if is_pipeline(values):
        run_pipeline(values, run_dir, progress=False)
    else:
        pretrain(load_config(values, where=str(candidate.config)), run_dir, resume=True,
                 progress=False)
    history = training_rows(final_stage_dir(run_dir))
    run = load_run(run_dir, split=split)
    nearest, linear = scores(split)
    single = len(run.encoders) == 1
    rows = []
    for stream in run.encoders:
        suffix = "" if single else f"_{stream}"
        rows.append({
            "candidate": candidate.name, "config": str(candidate.config),
            "overrides": list(candidate.overrides), "seed": seed,
            "stream": stream, "epochs": len(history),
            "loss": [row.get(f"loss{suffix}", row.get("loss")) for row in history],
            "spread": [row.get(f"spread{suffix}") for row in history],
            f"{split}_feature_spread": embedding_spread(
                cached_features(run, stream, run.config.data.test_split)).item(),
            nearest: knn_eval(run, stream, 1, 0.1)["top1"],
            linear: linear_probe(run, stream, preset, progress=False)["top1"],
            "pretrain_s": stages_seconds(run_dir), "trained_on": machine()})
    if isc:
        rows = with_isc_protocols(run_dir, rows, split)
    store.write_text(json.dumps(rows, indent=1))
    return rows


def isc_keys(split: str) -> tuple[str, str]:
    """The row keys of ISC's linear protocol and its centre-crop 1-NN."""
    return f"{split}_linear_isc", f"{split}_1nn_centre"


def with_isc_protocols(run_dir: Path, rows: list[dict], split: str) -> list[dict]:
    """Each stream's row with ISC's protocols: the ``isc`` linear preset (trained on random
    crop-resizes, tested on centre crops) and 1-NN on centre-crop features."""
    run = load_run(run_dir, split=split)
    linear, nearest = isc_keys(split)
    return [{**row, linear: linear_probe(run, row["stream"], "isc", progress=False)["top1"],
             nearest: knn_eval(run, row["stream"], 1, 0.1, centre=True)["top1"]}
            for row in rows]


def stages_seconds(run_dir: Path) -> float:
    """Pretraining seconds of a run, every stage of a pipeline counted."""
    stages = [path.parent for path in run_dir.glob("*/metrics.csv")] or [run_dir]
    return sum(pretrain_seconds(stage) for stage in stages)


def _one_thread_each(threads: int) -> None:
    torch.set_num_threads(threads)


def share_stages(specs: list[str], runs: Path, seeds: dict[str, list[int]]) -> None:
    """Each ``NAME:STAGE=OTHER`` links stage STAGE of pipeline candidate NAME's runs to the
    finished run of candidate OTHER with the same seed, which the pipeline then skips (e.g.
    ActCLR's first stage = the AimCLR variant's run)."""
    for spec in specs:
        name, _, rest = spec.partition(":")
        stage, _, other = rest.partition("=")
        if not (name and stage and other) or name not in seeds:
            raise SystemExit(f"--share-stage {spec!r}: expected NAME:STAGE=OTHER with NAME a "
                             f"candidate of this command ({', '.join(seeds)})")
        for seed in seeds[name]:
            source = run_path(runs, other, seed)
            if not is_scored(runs, other, seed):
                raise SystemExit(f"--share-stage {spec!r}: {source} has not finished (no "
                                 "recipe.json); train and score it first")
            link = run_path(runs, name, seed) / stage
            if not link.is_symlink():
                link.parent.mkdir(parents=True, exist_ok=True)
                link.symlink_to(Path("..") / source.name, target_is_directory=True)


def train_all(candidates: list[Candidate], seeds: list[int], runs: Path, preset: str,
              split: str, jobs: int) -> list[dict]:
    """Every (candidate, seed) run, ``jobs`` of them at a time in their own processes."""
    return train_pairs([(c, seed) for c in candidates for seed in seeds], runs, preset, split,
                       jobs)


def train_pairs(pairs: list[tuple[Candidate, int]], runs: Path, preset: str, split: str,
                jobs: int, isc: bool = False) -> list[dict]:
    """The given (candidate, seed) runs, ``jobs`` of them at a time in their own processes
    (``isc``: scored with ISC's protocols too)."""
    if jobs <= 1:
        return [row for candidate, seed in pairs
                for row in train_and_score(candidate, seed, runs, preset, split, isc=isc)]
    threads = max(1, (os.cpu_count() or 1) // jobs)
    with ProcessPoolExecutor(jobs, mp_context=get_context("spawn"),
                             initializer=_one_thread_each, initargs=(threads,)) as pool:
        futures = [pool.submit(train_and_score, candidate, seed, runs, preset, split, True,
                               isc) for candidate, seed in pairs]
        return [row for future in futures for row in future.result()]


def split_floors(path: Path, overrides: tuple[str, ...], seeds: list[int], runs: Path,
                 preset: str, split: str) -> dict[str, dict]:
    """Raw coordinates and random weights (one run per seed) of a single-run config, scored
    on ``split``."""
    config = load_config(candidate_values(path, overrides, seeds[0], split), where=str(path))
    config.data.test_split = split
    features, labels = raw_features(config)
    classes = int(labels["train"].max()) + 1
    nearest = knn_predict(features["train"], labels["train"], features["test"], 1, classes)
    nearest_key, linear_key = scores(split)
    floors = {"raw coordinates": {nearest_key: [top1(nearest, labels["test"])],
                                  linear_key: [probe(features, labels, preset)]}}
    setting = setting_name([path.stem, *overrides])  # pages may share ``runs``
    for seed in seeds:
        run = random_run(candidate_values(path, overrides, seed, split),
                         runs / f"random-{setting}-seed{seed}", split, where=str(path))
        for stream in run.encoders:  # each encoder of a multi-encoder config (ISC) its own
            name = line_label("random weights", stream, len(run.encoders) > 1)
            floor = floors.setdefault(name, {nearest_key: [], linear_key: []})
            floor[nearest_key].append(knn_eval(run, stream, 1, 0.1)["top1"])
            floor[linear_key].append(linear_probe(run, stream, preset, progress=False)["top1"])
    return floors


def earlier_floors(path: Path, split: str) -> dict[str, dict]:
    """The floor rows of an earlier page, as ``split_floors`` gives them."""
    rows = [row for row in json.loads(path.read_text()) if "floor" in row]
    return {row["floor"]: {key: row[key]["values"] for key in scores(split)} for row in rows}


def line_label(label: str, stream: str, several: bool) -> str:
    """A line's name: ``LABEL``, or ``LABEL · stream`` when its runs have several encoders."""
    return f"{label} · {stream}" if several else label


def stream_lines(label: str, mine: list[dict]) -> list[tuple[str, str | None, list[dict]]]:
    """(label, stream, rows) of each line one candidate's rows give: one, or one per encoder
    (``LABEL · sequence``, ``LABEL · graph``) when its runs have several (ISC's
    representations)."""
    streams = list(dict.fromkeys(row["stream"] for row in mine))
    if len(streams) == 1:
        return [(label, None, mine)]
    return [(line_label(label, stream, True), stream,
             [row for row in mine if row["stream"] == stream]) for stream in streams]


def plot(rows: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(1, 2, figsize=(12, 3.6))
    lines = [(row["candidate"], row["stream"]) for row in rows]
    names = list(dict.fromkeys(lines))
    several = {name for name, _ in names if sum(n == name for n, _ in names) > 1}
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for row, line in zip(rows, lines, strict=True):
        colour = colours[names.index(line) % len(colours)]
        label = line_label(*line, line[0] in several) if row["seed"] == min(
            r["seed"] for r in rows if r["candidate"] == row["candidate"]) else None
        for axis, key in zip(axes, ("loss", "spread"), strict=True):
            axis.plot(range(1, row["epochs"] + 1), row[key], color=colour, alpha=0.7,
                      label=label)
    axes[0].set(xlabel="epoch", title="training loss (last stage)")
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
    parser.add_argument("--best", action="store_true",
                        help="train and score, then print the best candidate's spec (highest "
                             "mean of 1-NN and linear over the seeds) instead of a report")
    parser.add_argument("--floor-config", type=Path, default=None,
                        help="a single-run config for the floors (default: the first "
                             "candidate's; give one for a pipeline such as CRRL)")
    parser.add_argument("--jobs", type=int, default=1,
                        help="runs trained at a time, each in its own process (one GPU "
                             "holds many small runs)")
    parser.add_argument("--runs", type=Path, default=None,
                        help="default: runs/recipe-nw-ucla-<split>")
    parser.add_argument("--floors-from", type=Path, default=None, metavar="JSON",
                        help="reuse the floors of an earlier page on the same split and "
                             "preprocessing instead of computing them")
    parser.add_argument("--share-stage", action="append", default=[],
                        metavar="NAME:STAGE=OTHER",
                        help="stage STAGE of candidate NAME's pipeline is candidate OTHER's "
                             "finished run of the same seed (a search over ActCLR's stage 2 "
                             "on one AimCLR run)")
    page_arguments(parser, "recipe-nw-ucla")
    args = parser.parse_args()
    candidates = [parse_candidate(spec, args.config) for spec in args.candidate or ["baseline"]]
    split, runs = args.split, args.runs or Path(f"runs/recipe-nw-ucla-{args.split}")
    started = time.perf_counter()
    share_stages(args.share_stage, runs, {candidate.name: args.seeds for candidate in candidates})
    measured = train_all(candidates, args.seeds, runs, args.preset, split, args.jobs)
    if args.best:
        print(best_candidate(candidates, measured, split).spec)
        return
    if args.no_floors:
        return
    floor_config, floor_overrides = ((args.floor_config, ()) if args.floor_config else
                                     (candidates[0].config, candidates[0].overrides))
    floors = (earlier_floors(args.floors_from, split) if args.floors_from else
              split_floors(floor_config, floor_overrides, args.seeds, runs, args.preset, split))
    common = {**provenance(), "protocol": f"{split} split, {args.preset} linear and 1-NN",
              "seeds": args.seeds, "wall_time_s": round(time.perf_counter() - started, 1)}
    table = []
    for floor, values in floors.items():
        table.append(f"| {floor} | – | – | – | – | "
                     + " | ".join(cell(summary(values[key])) for key in scores(split))
                     + " | – |")
    lines = [(candidate, label, mine) for candidate in candidates
             for label, _, mine in stream_lines(candidate.name, [
                 row for row in measured if row["candidate"] == candidate.name])]
    for candidate, label, mine in lines:
        final_loss = summary([row["loss"][-1] for row in mine])
        lowest = summary([min((s for s in row["spread"] if s is not None), default=math.nan)
                          for row in mine])
        feature = summary([row[f"{split}_feature_spread"] for row in mine])
        minutes = statistics.mean(row["pretrain_s"] for row in mine) / 60
        settings = [*([] if candidate.config == args.config else [str(candidate.config)]),
                    *candidate.overrides]
        table.append(f"| {label} | {' '.join(settings) or '–'} | "
                     f"{cell(final_loss, 2)} | "
                     f"{cell(lowest, 2)} | {cell(feature, 2)} | "
                     + " | ".join(cell(summary([row[key] for row in mine]))
                                  for key in scores(split))
                     + f" | {minutes:.1f} |")
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
        f"Recipes on the test split: {', '.join(c.name for c in candidates)}",
        "",
        f"Command: `{common['command']}` · commit `{common['commit']}` · machine: "
        f"{common['machine']} · wall time {common['wall_time_s']} s · seeds {args.seeds} · runs "
        f"trained on: {', '.join(sorted({row.get('trained_on', '?') for row in measured}))}. "
        f"{args.note}",
        "",
        f"Config `{args.config}` (unless a candidate names its own) with each candidate's "
        f"overrides, {data}, final epoch; linear "
        f"= the `{args.preset}` probe. Loss: the final epoch's training loss (InfoNCE; of the "
        "last stage for a pipeline); lowest spread: the "
        "collapse monitor's query spread at its lowest epoch; feature spread: of the frozen "
        f"{split} features (≈ 1 spread evenly, 0 collapsed). Cells: mean ± std (per seed).",
        "",
        f"![loss and spread per epoch]({args.topic}.png)",
        "",
        "| candidate | settings | final loss | lowest query spread "
        f"| feature spread ({split}) | 1-NN {split} | linear {split} | pretrain min/run |",
        "|---|---|---|---|---|---|---|---|",
        *table,
    ]
    write_results(args.out, args.topic, rows, markdown)


if __name__ == "__main__":
    main()
