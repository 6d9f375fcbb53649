"""The leaderboard: every method, variant and stream measured on a dataset, on equal terms.

Collects the rows of docs/results/*.json for one dataset into
docs/results/leaderboard-<dataset>.md: one line per representation (method · variant ·
stream, or a floor), columns linear (the dataset's probe), 1-NN, linear on 10 % of the labels
and finetune, each the final epoch as mean ± std over pretraining seeds, with the encoder, the
pretraining schedule and its cost. Floors: raw coordinates (the preprocessed input itself) and
random weights of each encoder, by the same protocols; a cell below the raw-coordinate floor of
the same preprocessing is marked ▽. Rules and sources are in the page it writes. Run from the
repository root:

    python benchmarks/leaderboard.py --dataset nw-ucla
"""

from __future__ import annotations

import argparse
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from skelssl.config import RunConfig, apply_overrides, load_config, read_yaml
from skelssl.engine.pipeline import is_pipeline, stage_configs

PROBES = {"nw-ucla": "crrl-std", "ntu60": "crossclr", "ntu120": "crossclr"}
COLUMNS = ("linear", "knn", "semi", "finetune")
HEADINGS = {"linear": "linear", "knn": "1-NN", "semi": "10 % labels", "finetune": "finetune"}


@dataclass(frozen=True)
class Source:
    """How one results file's rows become leaderboard lines."""

    label: Callable[[dict], str | None]  # the line a row belongs to (None: not on the board)
    config: str | None = None  # the pretraining config, when rows do not name it
    epochs: str = ""  # the pretraining schedule, as shown
    probe: str | None = None  # the linear preset of rows that do not name theirs
    measured_with: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # config → the overrides that restore the settings its rows were measured with, for pages
    # older than a change of that config (rows that list their overrides keep them)


def crossclr_label(row: dict) -> str | None:
    """CrosSCLR-joint → CrosSCLR · joint; 3s-CrosSCLR → CrosSCLR · 3-stream ensemble."""
    variant = row["variant"]
    if variant[:2] in ("2s", "3s"):
        return f"{variant[3:]} · {variant[0]}-stream ensemble"
    method, _, stream = variant.partition("-")
    return None if "+" in stream else f"{method} · {stream}"


def crrl_label(row: dict) -> str | None:
    return None if row["variant"] == "Rand-Enc" else (
        "CRRL" if row["variant"] == "CRRL" else f"CRRL · {row['variant']}")


def floor_label(row: dict) -> str:
    if row["variant"] == "raw coordinates":
        return "raw coordinates"
    encoders = row["encoder"]  # slot → architecture; a slot's own stream names its encoder
    names = [encoders[row["stream"]]] if row["stream"] in encoders else encoders.values()
    return f"random weights · {'+'.join(names)} · {row['stream']}"


NAMED = {"SkeletonCLR-joint": "SkeletonCLR · joint", "SkeletonCLR": "SkeletonCLR · joint",
         "CRRL": "CRRL", "SkeletonCLR (finetuned)": "SkeletonCLR · joint",
         "SkeletonCLR architecture from scratch": "random weights · stgcn · joint"}

# The NW-UCLA recipe changed after some pages were written (docs/results/quality-nw-ucla.md):
# first no dropout, then a 10-epoch warm-up (2s-AGCN's config took it when it became the recipe's
# encoder). These overrides restore what older pages measured.
WITHOUT_WARMUP = ("train.warmup_epochs=0",)
BEFORE_WARMUP = {config: WITHOUT_WARMUP for config in (
    "configs/skeletonclr/nw-ucla.yaml", "configs/crossclr/nw-ucla.yaml",
    "configs/aimclr/nw-ucla.yaml")}
BEFORE_RECIPE = {config: ("encoder.dropout=0.5", *WITHOUT_WARMUP) for config in (
    "configs/skeletonclr/nw-ucla.yaml", "configs/crossclr/nw-ucla.yaml")}

# Results files → leaderboard lines. A setting measured with several schedules stands with
# its longest (crossclr-nw-ucla, the 20-epoch CrosSCLR, is superseded by the 60-epoch one).
SOURCES: dict[str, Source] = {
    "skeletonclr-nw-ucla": Source(lambda r: NAMED.get(r["variant"]) if "Rand" not in
                                  r["variant"] else None, "configs/skeletonclr/nw-ucla.yaml",
                                  "60", measured_with=BEFORE_RECIPE),
    "crossclr-nw-ucla-60ep": Source(crossclr_label, epochs="60", measured_with=BEFORE_RECIPE),
    "crossclr-nw-ucla-lstm": Source(crossclr_label, epochs="20"),
    "crrl-nw-ucla": Source(crrl_label, probe="crrl"),
    "crrl-nw-ucla-std": Source(crrl_label),
    "semi-nw-ucla": Source(lambda r: NAMED.get(r["variant"]) if r["weights"] == "trained"
                           else None, measured_with=BEFORE_RECIPE),
    "finetune-nw-ucla": Source(lambda r: NAMED.get(r["variant"]),
                               "configs/skeletonclr/nw-ucla.yaml", measured_with=BEFORE_RECIPE),
    "floors-nw-ucla": Source(floor_label, measured_with=BEFORE_RECIPE),
    "encoders-nw-ucla": Source(lambda r: r["variant"], epochs="60", measured_with={
        **BEFORE_RECIPE, "configs/skeletonclr/nw-ucla-agcn.yaml": WITHOUT_WARMUP}),
    "quality-nw-ucla": Source(lambda r: r["variant"] if r["protocol"] in ("linear", "knn")
                              else None),
    "aimclr-nw-ucla": Source(lambda r: r["variant"] if r.get("board") else None,
                             measured_with=BEFORE_WARMUP),
    "viewclr-nw-ucla": Source(lambda r: r["variant"] if r.get("board") else None),
    "floors-nw-ucla-viewclr": Source(floor_label),
    "floors-nw-ucla-agcn-streams": Source(floor_label),
    "floors-nw-ucla-isc": Source(floor_label),
}
CONFIG_OF = {"SkeletonCLR · joint": "configs/skeletonclr/nw-ucla.yaml", "CRRL":
             "configs/crrl/nw-ucla.yaml"}  # for rows of files that cover several runs


@dataclass
class Line:
    """One line of the board."""

    label: str
    config: str
    overrides: tuple[str, ...] = ()
    epochs: str = ""
    cells: dict[str, dict] = field(default_factory=dict)
    other_probe: dict[str, str] = field(default_factory=dict)
    run_cost_s: float | None = None  # pretraining seconds per seed of one run
    stream: str | None = None  # the encoder of a multi-encoder run its numbers score
    runs: int = 1  # separately pretrained runs per seed (an ensemble of single-stream runs)

    @property
    def cost_s(self) -> float | None:
        """Pretraining seconds per seed of the line: all of its runs."""
        return None if self.run_cost_s is None else self.run_cost_s * self.runs

    @property
    def floor(self) -> bool:
        return self.label.startswith(("raw coordinates", "random weights"))


def column(row: dict, probe: str, source: Source) -> tuple[str, bool] | None:
    """(column, whether the row used the dataset's probe) of a final-epoch result row."""
    if row.get("epoch", "final") != "final" or row.get("metric") != "top1":
        return None
    preset = row.get("preset", source.probe)
    if row["protocol"] == "linear":
        return "linear", preset == probe
    if row["protocol"] == "knn" and row.get("k") == 1:
        return "knn", True
    if row["protocol"] == "semi" and row.get("label_fraction") == 0.1 and preset == probe:
        return "semi", True
    if row["protocol"] == "finetune" and row.get("label_fraction") == 1.0:
        return "finetune", True
    return None


def better(row: dict, same_probe: bool, line: Line, name: str) -> bool:
    """Whether ``row`` should replace the line's cell ``name``: the dataset's probe wins over
    another one, then more seeds over fewer."""
    held_same = name not in line.other_probe
    if same_probe != held_same:
        return same_probe
    return len(row.get("seeds") or []) > len(line.cells[name].get("seeds") or [])


def board_sources(results: Path) -> dict[str, Source]:
    """SOURCES, and every results file whose rows carry ``"board": true`` (written by
    benchmarks/method_nw_ucla.py), its lines labelled by their variant."""
    found = dict(SOURCES)
    for path in sorted(results.glob("*.json")):
        if path.stem in found or path.stem.startswith("leaderboard"):
            continue
        rows = json.loads(path.read_text())
        if isinstance(rows, list) and any(isinstance(r, dict) and r.get("board") for r in rows):
            found[path.stem] = Source(lambda r: r["variant"] if r.get("board") else None)
    return found


def collect(results: Path, dataset: str) -> dict[tuple[str, str, tuple[str, ...]], Line]:
    probe = PROBES[dataset]
    lines: dict[tuple[str, str, tuple[str, ...]], Line] = {}
    for topic, source in board_sources(results).items():
        path = results / f"{topic}.json"
        if not path.is_file():
            continue
        for row in json.loads(path.read_text()):
            if row.get("dataset") != dataset or "carried_from" in row:
                continue  # a carried row counts on the page it was measured for
            label, where = source.label(row), column(row, probe, source)
            if label is None or where is None:
                continue
            config = row.get("config") or source.config or CONFIG_OF[label]
            # a remark in brackets ("... (best on validation)") does not make another line
            key = (re.sub(r" \([^()]*\)$", "", label), config, tuple(row.get("overrides") or
                                                       source.measured_with.get(config, ())))
            line = lines.setdefault(key, Line(label, config, key[2], source.epochs,
                                              stream=row.get("stream"),
                                              runs=len(row.get("members") or ()) or 1))
            name, same_probe = where
            if name in line.cells and not better(row, same_probe, line, name):
                continue
            line.cells[name] = row
            if name == "linear":
                line.label = label  # the line is named as the row its linear cell shows
            if same_probe:
                line.other_probe.pop(name, None)
            else:
                line.other_probe[name] = row.get("preset", source.probe)
            if "pretrain_s_per_seed" in row:
                line.run_cost_s = row["pretrain_s_per_seed"]
    return lines


def attach_costs(lines: dict, results: Path) -> None:
    """Pretraining seconds per seed, measured alike for every config by
    benchmarks/pretrain_cost.py (docs/results/pretrain-cost.json); a line trained with a
    shorter schedule than its config's pays its own number of epochs, an ensemble of separate
    runs pays each of them. Where a config was not measured there, the time its benchmark
    recorded stays."""
    path = results / "pretrain-cost.json"
    if not path.is_file():
        return
    measured = {row["config"]: row for row in json.loads(path.read_text())
                if row.get("metric") == "seconds_per_seed" and not row.get("overrides")}
    for line in lines.values():
        row = measured.get(line.config)
        if line.floor or row is None:
            continue
        if line.epochs and len(row["epochs"]) == 1:
            line.run_cost_s = row["seconds_per_epoch"][0] * int(line.epochs)
        else:
            line.run_cost_s = row["mean"]


def config_of(line: Line) -> RunConfig:
    """The line's config (a pipeline's last stage: its data and encoders are every stage's)."""
    values = apply_overrides(read_yaml(line.config), list(line.overrides))
    if is_pipeline(values):
        return stage_configs(values, Path("runs/leaderboard"))[-1][1]
    return load_config(values)


def preprocessing_of(line: Line) -> tuple:
    data = config_of(line).data
    return (data.persons, data.center, data.align_view, data.view_axes if data.align_view else
            None, data.minmax, data.max_frames, data.frame_cap if data.max_frames else None,
            data.frames)


def describe(key: tuple) -> str:
    persons, center, align, axes, minmax, cap, cap_mode, frames = key
    parts = [f"{persons} person{'s' * (persons > 1)}",
             {"frame": "centre joint subtracted per frame", "first": "centre joint of the "
              "first frame subtracted", "none": "not centred"}[center]]
    if align:
        parts.append(f"rotated into the body frame ({axes})")
    if minmax:
        parts.append("min-max scaled to [−1, 1]")
    if cap:
        parts.append(f"at most {cap} frames ({cap_mode})")
    parts.append(f"resized to {frames} frames" if frames else "variable length")
    return ", ".join(parts)


def merge_floors(lines: dict, keys: dict) -> None:
    """One floor line per (floor, preprocessing, encoder architecture): the same floor measured
    from two configs is merged, first measurement first; raw-coordinate floors of a
    preprocessing no learned line uses are left to the floors page."""
    used = {keys[key] for key, line in lines.items() if not line.floor}
    seen: dict[tuple, Line] = {}
    for key, line in list(lines.items()):
        if not line.floor:
            continue
        if keys[key] not in used:
            del lines[key]
            continue
        config = config_of(line)
        identity = (line.label, keys[key], None if line.label == "raw coordinates" else
                    str(config.encoder_sections()))
        if identity in seen:
            for name, row in line.cells.items():
                seen[identity].cells.setdefault(name, row)
            del lines[key]
        else:
            seen[identity] = line


def schedule_of(line: Line) -> str:
    """The pretraining epochs: the measured schedule, else the config's (stage by stage)."""
    if line.floor:
        return "–"
    if line.epochs:
        return line.epochs
    values = apply_overrides(read_yaml(line.config), list(line.overrides))
    if is_pipeline(values):
        return "+".join(str(config.train.epochs) for _, config in
                        stage_configs(values, Path("runs/leaderboard")))
    return str(load_config(values).train.epochs)


def cell(row: dict | None, floor: float | None, marker: str = "") -> str:
    if row is None:
        return "–"
    spread = f" ± {row['std']:.1f}" if row.get("std") is not None else ""
    below = " ▽" if floor is not None and row["mean"] < floor else ""
    seeds = row.get("seeds") or []
    few = f" ({len(seeds)} seed)" if len(seeds) == 1 else ""
    return f"{row['mean']:.1f}{spread}{marker}{below}{few}"


def encoder_of(line: Line) -> str:
    if line.label == "raw coordinates":
        return "none"
    sections = config_of(line).encoder_sections()
    # the encoder(s) of a multi-encoder run that the line scores (ISC's graph, or its sequence
    # and graph fused); otherwise every encoder of the config
    named = (line.stream or "").split("+")
    chosen = named if all(name in sections for name in named) else list(sections)
    return "+".join(sections[name].name for name in chosen)


def table(lines: dict, dataset: str) -> tuple[list[str], list[str]]:
    """The board's rows (best linear first) and the preprocessing legend."""
    keys = {key: preprocessing_of(line) for key, line in lines.items()}
    merge_floors(lines, keys)
    letters = {p: chr(ord("A") + i) for i, p in enumerate(dict.fromkeys(
        keys[key] for key in lines))}
    raw = {keys[key]: line.cells for key, line in lines.items() if line.label == "raw coordinates"}
    ordered = sorted(lines.items(), key=lambda item: -item[1].cells.get(
        "linear", {"mean": -1.0})["mean"])
    rows = []
    for rank, (key, line) in enumerate(ordered, 1):
        floors = raw.get(keys[key], {})
        values = [cell(line.cells.get(name), None if line.floor else
                       floors.get(name, {}).get("mean"), "†" if name in line.other_probe else "")
                  for name in COLUMNS]
        seeds = max((len(r.get("seeds") or []) for r in line.cells.values()), default=0)
        cost = "–" if line.cost_s is None else f"{line.cost_s / 3600:.2f}"
        name = f"**{line.label}** (floor)" if line.floor else line.label
        config = f"`{Path(line.config).parent.name}/{Path(line.config).name}`"
        if line.overrides:
            config += " " + " ".join(line.overrides)
        rows.append(f"| {rank} | {name} | {encoder_of(line)} | {config} | {letters[keys[key]]} "
                    f"| {schedule_of(line)} | " + " | ".join(values) +
                    f" | {seeds or '–'} | {cost} |")
    legend = [f"- **{letter}**: {describe(p)}" for p, letter in letters.items()]
    return rows, legend


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="nw-ucla", choices=sorted(PROBES))
    parser.add_argument("--results", type=Path, default=Path("docs/results"))
    parser.add_argument("--out", type=Path, default=None, help="default: --results")
    args = parser.parse_args()
    lines = collect(args.results, args.dataset)
    attach_costs(lines, args.results)
    rows, legend = table(lines, args.dataset)
    probe = PROBES[args.dataset]
    others = sorted({p for line in lines.values() for p in line.other_probe.values()})
    markdown = [
        f"# Leaderboard: {args.dataset}",
        "",
        f"Generated by `python benchmarks/leaderboard.py --dataset {args.dataset}` from the "
        "results in this folder (each row links back through its config to the benchmark "
        "page that measured it). Higher is better; top-1 %, final epoch, mean ± std over "
        "pretraining seeds.",
        "",
        "**Equal terms.** Every number is measured by skelssl on the same prepared data and "
        f"splits with the same protocols: linear = the dataset's probe (`{probe}`, on cached "
        "features of the frozen encoder), 1-NN = cosine nearest neighbour, 10 % labels = the "
        "same probe on a class-balanced 10 % of the training labels (mean over 3 draws), "
        "finetune = encoder + linear classifier end to end on all labels (CrosSCLR's "
        "finetune preset). Always the final epoch, never the best test epoch; no setting is "
        "chosen on the test split. Three pretraining seeds unless a cell says otherwise. Each "
        "row states its config, its preprocessing (the letters below: a learned encoder sees "
        "exactly the input its floor row sees) and its pretraining schedule (epochs; when a "
        "setting was measured with several schedules, the longest stands; when it was measured "
        "again on more seeds, the line shows the most seeds). Cost = pretraining "
        "wall-clock hours per seed on the 2-core CPU of the benchmarks (– where not recorded).",
        "",
        "**Floors.** *raw coordinates*: the preprocessed input itself, flattened, by the same "
        "protocols; *random weights*: each encoder at a seeded initialisation (BatchNorm "
        "statistics from the training inputs; finetune = the same architecture trained from "
        "scratch). ▽ marks a learned number below the raw-coordinate floor of its "
        "preprocessing: there, the encoder has not yet learned anything a nearest neighbour "
        "on the input does not already find.",
        "",
        "| # | representation | encoder | config | prep. | epochs | "
        + " | ".join(f"{HEADINGS[c]}" for c in COLUMNS) + " | seeds | cost (h) |",
        "|---|---|---|---|---|---|" + "---|" * len(COLUMNS) + "---|---|",
        *rows,
        "",
        "Preprocessing:",
        *legend,
    ]
    if others:
        markdown += ["", f"† measured with the `{'`, `'.join(others)}` probe (not yet with "
                     f"`{probe}`): not on equal terms with the other rows of that column."]
    out = args.out or args.results
    out.mkdir(parents=True, exist_ok=True)
    (out / f"leaderboard-{args.dataset}.md").write_text("\n".join(markdown) + "\n")
    print("\n".join(markdown))


if __name__ == "__main__":
    main()
