"""What frozen features find first: the action or the person (NW-UCLA, across views, 1-NN).

For runs pretrained on ``train-val`` (the validation-split runs of benchmarks/recipe_nw_ucla.py:
views 1 and 2 of 8 of the 10 subjects), every test-view sequence (view 3) of those same subjects
queries the train-val sequences by cosine 1-NN, and the neighbour's action and subject are
scored: a representation that matches people rather than actions finds the subject more often
than the action. Beside them: the raw coordinates of each run's preprocessing. Writes
docs/results/<topic>.{json,md}. From the repository root:

    python benchmarks/identity_probe.py --run "SkeletonCLR=runs/recipe/bf16-seed0" \\
        --run "ViewCLR=runs/viewclr-val/viewclr-unit0.1-seed0"
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch
from floors import raw_features
from results import page_arguments, provenance, summary, write_results

from skelssl.config import load_config
from skelssl.data.dataset import PreparedDataset
from skelssl.eval.knn import knn_predict
from skelssl.eval.protocol import cached_features, load_run

FIT, QUERY = "train-val", "test"


def neighbour_scores(train: torch.Tensor, test: torch.Tensor, data: PreparedDataset,
                     benchmark: str) -> dict[str, float]:
    """Cross-view 1-NN: % of queries (test sequences of train-val subjects) whose nearest
    train-val sequence shares their action, and their subject."""
    fit, query = data.indices(benchmark, FIT), data.indices(benchmark, QUERY)
    subjects = np.asarray(data.meta["samples"]["subject"])
    known = np.isin(subjects[query], subjects[fit])
    labels = {"action": np.asarray(data.labels), "subject": subjects}
    scores = {}
    for name, label in labels.items():
        classes = int(label.max()) + 1
        predicted = knn_predict(train, torch.from_numpy(label[fit].astype(np.int64)),
                                test[torch.from_numpy(known)], 1, classes).numpy()
        scores[name] = float(100 * (predicted == label[query][known]).mean())
    scores["queries"] = int(known.sum())
    scores["subjects"] = int(len(np.unique(subjects[fit])))
    return scores


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", action="append", required=True, metavar="LABEL=RUN_DIR",
                        help="runs of one label are seeds of one representation")
    page_arguments(parser, "identity-nw-ucla")
    args = parser.parse_args()
    started = time.perf_counter()
    measured: dict[str, list[dict]] = {}
    raw_done: set[str] = set()
    for spec in args.run:
        label, _, run_dir = spec.partition("=")
        run = load_run(run_dir)
        if run.config.data.train_split != FIT:
            raise SystemExit(f"{run_dir}: pretrained on {run.config.data.train_split!r}; this "
                             f"probe needs runs pretrained on {FIT!r}")
        stream = next(iter(run.encoders))
        train, test = (cached_features(run, stream, split) for split in (FIT, QUERY))
        benchmark = run.config.data.benchmark
        measured.setdefault(label, []).append(
            {"run": run_dir, **neighbour_scores(train, test, run.data, benchmark)})
        prep = f"raw coordinates ({run.config.data.center} centre)"
        if prep not in raw_done:
            raw_done.add(prep)
            config = load_config(run.run_dir / "config.yaml")
            config.data.train_split, config.data.test_split = FIT, QUERY
            features, _ = raw_features(config)
            measured[prep] = [{"run": None, **neighbour_scores(features["train"],
                                                                features["test"], run.data,
                                                                benchmark)}]
    common = {**provenance(), "dataset": "nw-ucla", "split": "view3",
              "wall_time_s": round(time.perf_counter() - started, 1)}
    rows, table = [], []
    for label, runs in measured.items():
        cells = {key: summary([r[key] for r in runs]) for key in ("action", "subject")}
        rows.append({**common, "variant": label, "runs": [r["run"] for r in runs],
                     "queries": runs[0]["queries"], "subjects": runs[0]["subjects"],
                     **{f"{key}_1nn": cell for key, cell in cells.items()}})
        table.append(f"| {label} | {len(runs) if runs[0]['run'] else '–'} | "
                     + " | ".join(_shown(cells[key]) for key in ("action", "subject")) + " |")
    first = next(iter(measured.values()))[0]
    markdown = [
        "# What the features find first: the action or the person",
        "",
        f"Command: `{common['command']}` · commit `{common['commit']}` · machine: "
        f"{common['machine']} · wall time {common['wall_time_s']} s. {args.note}",
        "",
        f"NW-UCLA, runs pretrained on `{FIT}` (views 1 and 2 of {first['subjects']} subjects). "
        f"Each of the {first['queries']} test-view sequences of those subjects (view 3, never "
        "seen in pretraining) finds its cosine nearest neighbour among the train-val "
        "sequences; cells: % of queries whose neighbour has the same action (10 classes) and "
        f"the same subject ({first['subjects']} subjects, chance "
        f"{100 / first['subjects']:.1f} %), mean ± std over runs.",
        "",
        "| representation | runs | same action | same subject |",
        "|---|---|---|---|",
        *table,
    ]
    write_results(args.out, args.topic, rows, markdown)


def _shown(cell: dict) -> str:
    spread = f" ± {cell['std']:.1f}" if cell["std"] is not None else ""
    return f"{cell['mean']:.1f}{spread}"


if __name__ == "__main__":
    main()
