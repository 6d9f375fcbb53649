"""The NW-UCLA small-data recipe: its search on validation and its test numbers beside the old one.

Reads results this folder already holds and writes docs/results/quality-nw-ucla.{md,json}:

- the search: every candidate of the validation-split pages (``--search``, written by
  ``benchmarks/recipe_nw_ucla.py``), mean ± std of val linear and 1-NN, the chosen one marked;
- the final numbers on the test view: for each method the old recipe (its benchmark page),
  every candidate run on the test view (``--test``, pages written by
  ``recipe_nw_ucla.py --split test``; ``--recipe METHOD=NAME`` names the new recipe among them)
  and the floors of its preprocessing (floors-nw-ucla.json; a candidate with an encoder of its
  own brings the random-weight floor of its test page).

The JSON holds the chosen candidates' test numbers as result rows the leaderboard reads, with
the overrides each still needs against today's config. From the repository root:

    python benchmarks/quality_nw_ucla.py --search recipe-nw-ucla-warmup recipe-nw-ucla-agcn \\
        --test recipe-nw-ucla-test recipe-nw-ucla-agcn-test \\
        --recipe "SkeletonCLR · joint=agcn-warmup" --recipe "SkeletonCLR · joint=d0-warmup"
"""

from __future__ import annotations

import argparse
import copy
import json
import statistics
from dataclasses import dataclass
from pathlib import Path

from results import cell, provenance, summary, write_results

from skelssl.config import apply_overrides, read_yaml


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


def still_needed(config: str, overrides: list[str]) -> list[str]:
    """The overrides that still change ``config`` as it stands today (a candidate the config
    has since adopted needs none)."""
    today = read_yaml(config)
    return [override for override in overrides
            if apply_overrides(copy.deepcopy(today), [override]) != today]


def candidates(test: dict[str, list[dict]], method: Method) -> dict[tuple[str, str], list[dict]]:
    """(topic, candidate) → the per-seed test rows of every candidate of this method."""
    found: dict[tuple[str, str], list[dict]] = {}
    for topic, rows in test.items():
        for row in rows:
            if "candidate" in row and "test_linear" not in row:
                raise SystemExit(f"--test {topic}: not a test-view page (expected one written "
                                 "by recipe_nw_ucla.py --split test)")
            if "candidate" in row and Path(row["config"]).parent == Path(method.config).parent:
                found.setdefault((topic, row["candidate"]), []).append(row)
    return found


def candidate_rows(mine: list[dict], method: Method, name: str) -> list[dict]:
    """Leaderboard rows (linear, 1-NN) of a candidate's per-seed test scores."""
    config = mine[0]["config"]
    common = {"method": method.method, "dataset": "nw-ucla", "split": "view3",
              "metric": "top1", "epoch": "final", "variant": method.label, "recipe": name,
              "config": config, "overrides": still_needed(config, mine[0]["overrides"]),
              "candidate_overrides": mine[0]["overrides"],
              "seeds": [row["seed"] for row in mine],
              "pretrain_s_per_seed": round(statistics.mean(row["pretrain_s"] for row in mine), 1),
              "trained_on": sorted({row.get("trained_on", "?") for row in mine}),
              "commit_trained": mine[0].get("commit")}
    return [{**common, "protocol": "linear", "preset": PROBE,
             **summary([row["test_linear"] for row in mine])},
            {**common, "protocol": "knn", "k": 1, **summary([row["test_1nn"] for row in mine])}]


def cells(linear: dict | None, nearest: dict | None) -> str:
    """The linear and 1-NN cells of a table line ('–' where not measured)."""
    return " | ".join(cell(row) if row else "–" for row in (linear, nearest))


def random_floor(rows: list[dict]) -> tuple[dict | None, dict | None]:
    """A test page's random-weight floor (its config's encoder) as (linear, 1-NN) cells."""
    floor = next((row for row in rows if row.get("floor") == "random weights"), None)
    return (floor["test_linear"], floor["test_1nn"]) if floor else (None, None)


def method_lines(results: Path, test: dict[str, list[dict]], method: Method,
                 chosen: list[str]) -> tuple[list[str], list[dict]]:
    """The test-view table's lines of one method (every candidate on its test pages) and the
    leaderboard rows of its chosen ones."""
    lines = [f"| {method.label} | old: `{method.config}` as measured on "
             f"[{method.old_topic}]({method.old_topic}.md) | "
             f"{cells(*old_numbers(results, method))} |"]
    found = candidates(test, method)
    missing = sorted(set(chosen) - {name for _, name in found})
    if missing:
        raise SystemExit(f"--recipe {method.label}={missing[0]}: no such candidate in --test")
    rows: list[dict] = []
    own_floors: dict[str, tuple[dict | None, dict | None]] = {}
    for (topic, name), mine in found.items():
        measured = candidate_rows(mine, method, name)
        config = mine[0]["config"]
        settings = " ".join([*([f"`{config}`"] if config != method.config else []),
                             *mine[0]["overrides"]]) or "the config"
        numbers = cells(*measured)
        if name in chosen:
            rows += measured
            lines.append(f"| {method.label} | **new**: {name} ({settings}), "
                         f"[{topic}]({topic}.md) | **{numbers.replace(' | ', '** | **')}** |")
        else:
            lines.append(f"| {method.label} | tried: {name} ({settings}), "
                         f"[{topic}]({topic}.md) | {numbers} |")
        if config != method.floor_config:
            own_floors.setdefault(config, random_floor(test[topic]))
    if not chosen:
        lines.append(f"| {method.label} | new: unchanged (no candidate won on validation) "
                     "| – | – |")
    for floor, numbers in floor_numbers(results, method).items():
        lines.append(f"| {method.label} | floor: {floor} | {cells(*numbers)} |")
    for config, numbers in own_floors.items():
        lines.append(f"| {method.label} | floor: random weights of `{config}` | "
                     f"{cells(*numbers)} |")
    return lines, rows


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
    parser.add_argument("--test", nargs="+", required=True,
                        help="pages of the candidates run on the test split")
    parser.add_argument("--recipe", action="append", default=[], metavar="METHOD=CANDIDATE",
                        help="a method's new recipe: its candidate in --test, whose rows go "
                             "to the leaderboard; repeat it for one per encoder (a method "
                             "without one keeps its old recipe)")
    parser.add_argument("--note", default="")
    parser.add_argument("--results", type=Path, default=Path("docs/results"))
    args = parser.parse_args()
    chosen: dict[str, list[str]] = {}
    for spec in args.recipe:
        label, _, name = spec.partition("=")
        chosen.setdefault(label, []).append(name)
    unknown = set(chosen) - {method.label for method in METHODS}
    if unknown:
        raise SystemExit(f"--recipe {sorted(unknown)[0]}: expected one of "
                         f"{', '.join(method.label for method in METHODS)}")
    test = {topic: rows_of(args.results, topic) for topic in args.test}
    common = provenance()
    final, rows = [], []
    for method in METHODS:
        lines, measured = method_lines(args.results, test, method,
                                       chosen.get(method.label, []))
        final += lines
        rows += [{**common, **row} for row in measured]
    search, search_rows = search_lines(args.results, args.search,
                                       {name for names in chosen.values() for name in names})
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
        f"Settings are overrides of `{METHODS[0].config}` (or of the config named) as it "
        "stood when the page ran: the candidate *baseline* is the config before this recipe "
        "(ST-GCN's dropout 0.5, no warm-up); pages written after a choice ran on it.",
        "",
        "| page | candidate | settings | val linear | val 1-NN | seeds |",
        "|---|---|---|---|---|---|",
        *search,
    ]
    write_results(args.results, "quality-nw-ucla", rows, markdown)


if __name__ == "__main__":
    main()
