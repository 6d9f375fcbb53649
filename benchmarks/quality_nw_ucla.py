"""The NW-UCLA small-data recipe: its search on validation and its test numbers beside the old one.

Reads results this folder already holds and writes docs/results/quality-nw-ucla.{md,json}:

- the search: every candidate of the validation-split pages (``--search``, written by
  ``benchmarks/recipe_nw_ucla.py``), mean ± std of val linear and 1-NN, the chosen one marked;
- the final numbers on the test view: for each method the old recipe (its benchmark page), the
  new one (``--test``, written by ``recipe_nw_ucla.py --split test``; ``--recipe METHOD=NAME``
  names its candidate) and the floors of its preprocessing (floors-nw-ucla.json).

The JSON holds the new recipes' test numbers as result rows the leaderboard reads. From the
repository root:

    python benchmarks/quality_nw_ucla.py --search recipe-nw-ucla recipe-nw-ucla-3seeds \\
        --test recipe-nw-ucla-test --recipe "SkeletonCLR · joint=dropout0"
"""

from __future__ import annotations

import argparse
import json
import statistics
from dataclasses import dataclass
from pathlib import Path

from results import cell, provenance, summary, write_results


@dataclass(frozen=True)
class Method:
    """Where a method's old numbers and floors are."""

    label: str  # as on the leaderboard
    method: str
    config: str
    old_topic: str
    old_variant: str
    floor_config: str  # the config the floors page measured this preprocessing with


METHODS = [
    Method("SkeletonCLR · joint", "skeletonclr", "configs/skeletonclr/nw-ucla.yaml",
           "skeletonclr-nw-ucla", "SkeletonCLR-joint", "configs/skeletonclr/nw-ucla.yaml"),
    Method("CRRL", "crrl", "configs/crrl/nw-ucla.yaml", "crrl-nw-ucla-std", "CRRL",
           "configs/crrl/nw-ucla-cml.yaml"),
]
PROBE = "crrl-std"


def rows_of(results: Path, topic: str) -> list[dict]:
    return json.loads((results / f"{topic}.json").read_text())


def pick(rows: list[dict], **wanted) -> dict | None:
    """The final-epoch row with these fields (``k``/``preset`` tell 1-NN from linear)."""
    for row in rows:
        if row.get("epoch", "final") == "final" and all(
                row.get(key) == value for key, value in wanted.items()):
            return row
    return None


def old_numbers(results: Path, method: Method) -> tuple[dict | None, dict | None]:
    rows = rows_of(results, method.old_topic)
    return (pick(rows, variant=method.old_variant, preset=PROBE),
            pick(rows, variant=method.old_variant, k=1))


def floor_numbers(results: Path, method: Method) -> dict[str, tuple[dict | None, dict | None]]:
    rows = [row for row in rows_of(results, "floors-nw-ucla")
            if row["config"] == method.floor_config and row.get("stream") == "joint"
            and "label_fraction" not in row]
    return {variant: (pick(rows, variant=variant, preset=PROBE), pick(rows, variant=variant, k=1))
            for variant in ("raw coordinates", "random weights")}


def new_rows(test: list[dict], method: Method, candidate: str) -> list[dict]:
    """Leaderboard rows (linear, 1-NN) of a candidate's per-seed test scores."""
    mine = [row for row in test if row.get("candidate") == candidate]
    if not mine:
        raise SystemExit(f"--recipe {method.label}={candidate}: no such candidate in --test")
    common = {"method": method.method, "dataset": "nw-ucla", "split": "view3",
              "metric": "top1", "epoch": "final", "variant": method.label, "recipe": candidate,
              "config": method.config, "overrides": [], "candidate_overrides":
              mine[0]["overrides"], "seeds": [row["seed"] for row in mine],
              "pretrain_s_per_seed": round(statistics.mean(row["pretrain_s"] for row in mine), 1),
              "trained_on": sorted({row.get("trained_on", "?") for row in mine}),
              "commit_trained": mine[0].get("commit")}
    return [{**common, "protocol": "linear", "preset": PROBE,
             **summary([row["test_linear"] for row in mine])},
            {**common, "protocol": "knn", "k": 1, **summary([row["test_1nn"] for row in mine])}]


def search_lines(results: Path, topics: list[str], chosen: set[str]) -> tuple[list, list]:
    """Markdown lines and summary rows of every candidate of the validation search."""
    lines, rows = [], []
    for topic in topics:
        measured = [row for row in rows_of(results, topic) if "candidate" in row]
        for name in dict.fromkeys(row["candidate"] for row in measured):
            mine = [row for row in measured if row["candidate"] == name]
            linear, nearest = (summary([row[key] for row in mine])
                               for key in ("val_linear", "val_1nn"))
            config = mine[0]["config"]
            settings = " ".join([*([f"`{config}`"] if config != METHODS[0].config else []),
                                 *mine[0]["overrides"]]) or "–"
            mark = " **(chosen)**" if name in chosen else ""
            lines.append(f"| [{topic}]({topic}.md) | {name}{mark} | {settings} | "
                         f"{cell(linear)} | {cell(nearest)} | {len(mine)} |")
            rows.append({"protocol": "val-search", "topic": topic, "candidate": name,
                         "overrides": mine[0]["overrides"], "val_linear": linear,
                         "val_1nn": nearest})
    return lines, rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--search", nargs="+", required=True, help="validation-search topics")
    parser.add_argument("--test", required=True, help="the chosen recipes on the test split")
    parser.add_argument("--recipe", action="append", default=[], metavar="METHOD=CANDIDATE",
                        help="a method's new recipe: its candidate in --test (a method "
                             "without one keeps its old recipe)")
    parser.add_argument("--note", default="")
    parser.add_argument("--results", type=Path, default=Path("docs/results"))
    args = parser.parse_args()
    chosen = dict(spec.split("=", 1) for spec in args.recipe)
    unknown = set(chosen) - {method.label for method in METHODS}
    if unknown:
        raise SystemExit(f"--recipe {sorted(unknown)[0]}: expected one of "
                         f"{', '.join(method.label for method in METHODS)}")
    test = rows_of(args.results, args.test)
    common = provenance()
    final, rows = [], []
    for method in METHODS:
        floors = floor_numbers(args.results, method)
        linear, nearest = old_numbers(args.results, method)
        final.append(f"| {method.label} | old: `{method.config}` as measured on "
                     f"[{method.old_topic}]({method.old_topic}.md) | "
                     f"{cell(linear) if linear else '–'} | {cell(nearest) if nearest else '–'} |")
        if method.label in chosen:
            new = new_rows(test, method, chosen[method.label])
            rows += [{**common, **row} for row in new]
            final.append(f"| {method.label} | **new**: {chosen[method.label]} "
                         f"({' '.join(new[0]['candidate_overrides']) or 'the config'}), "
                         f"[{args.test}]({args.test}.md) | **{cell(new[0])}** | "
                         f"**{cell(new[1])}** |")
        else:
            final.append(f"| {method.label} | new: unchanged (no candidate won on validation) "
                         "| – | – |")
        for floor, (floor_linear, floor_nearest) in floors.items():
            final.append(f"| {method.label} | floor: {floor} |"
                         f" {cell(floor_linear) if floor_linear else '–'} |"
                         f" {cell(floor_nearest) if floor_nearest else '–'} |")
    search, search_rows = search_lines(args.results, args.search, set(chosen.values()))
    rows += [{**common, **row} for row in search_rows]
    markdown = [
        "# The NW-UCLA small-data recipe",
        "",
        f"Command: `{common['command']}` · commit `{common['commit']}` · machine: "
        f"{common['machine']} (training: see each linked page). {args.note}",
        "",
        "Chosen on the validation split (subjects held out of views 1+2, docs/training.md), "
        "then run on 3 seeds on the test view (view 3, never seen before). Linear = the "
        f"`{PROBE}` probe, 1-NN = cosine nearest neighbour, top-1 %, final epoch, mean ± std "
        "(per seed). Floors: the same preprocessing's raw coordinates and the encoder at "
        "random weights (floors-nw-ucla.md).",
        "",
        "## Test view",
        "",
        "| method | recipe | linear | 1-NN |",
        "|---|---|---|---|",
        *final,
        "",
        "## The search (validation split)",
        "",
        f"Settings are overrides of `{METHODS[0].config}` as it stood before this recipe "
        "(ST-GCN's dropout 0.5: the candidate *baseline*), or of the config named.",
        "",
        "| page | candidate | settings | val linear | val 1-NN | seeds |",
        "|---|---|---|---|---|---|",
        *search,
    ]
    write_results(args.results, "quality-nw-ucla", rows, markdown)
    print("\n".join(markdown))


if __name__ == "__main__":
    main()
