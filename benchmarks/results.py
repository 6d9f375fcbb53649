"""Writing benchmark results in the format of docs/results (JSON rows + a Markdown page)."""

from __future__ import annotations

import argparse
import glob
import json
import re
import shlex
import statistics
import sys
from pathlib import Path

from skelssl.engine.run_dir import git_commit, machine


def command_line(argv: list[str]) -> str:
    """``argv`` as a shell command one can paste, without the ``--note`` text (each page
    prints its note after the command)."""
    kept, after_note = [], False
    for arg in argv:
        if not after_note and arg != "--note" and not arg.startswith("--note="):
            kept.append(arg)
        after_note = arg == "--note"
    return shlex.join(["python", *kept])


def provenance(command: str | None = None) -> dict:
    """The fields every row shares: command, commit and machine."""
    return {"command": command or command_line(sys.argv), "commit": git_commit(),
            "machine": machine()}


def split_items(spec: str) -> list[str]:
    """``spec`` (CONFIG or NAME, then KEY=VALUE items) split at its commas outside brackets: a
    value may be a YAML list (``method.representations=[sequence,image]``)."""
    items, depth, start = [], 0, 0
    for index, char in enumerate(spec):
        depth += (char in "[{") - (char in "]}")
        if char == "," and depth == 0:
            items.append(spec[start:index])
            start = index + 1
    return [*items, spec[start:]]


def setting_name(parts: list[str]) -> str:
    """A run-directory name for a config and its overrides: the parts joined by ``-``, every
    character other than letters, digits and ``._=+-`` replaced by ``_`` (no slashes, and no
    brackets or commas that a shell glob would read as a pattern)."""
    return re.sub(r"[^\w.=+-]", "_", "-".join(parts))


def page_arguments(parser: argparse.ArgumentParser, topic: str | None) -> None:
    """The options of a results page: --topic (``topic`` by default; required when None),
    --note and --out."""
    where = "the results page, OUT/<topic>.{json,md}"
    if topic is None:
        parser.add_argument("--topic", required=True, help=where)
    else:
        parser.add_argument("--topic", default=topic, help=where)
    parser.add_argument("--note", default="", help="a sentence for the page, after the command")
    parser.add_argument("--out", type=Path, default=Path("docs/results"),
                        help="folder of the results pages")


def write_results(out: Path, topic: str, rows: list[dict], markdown: list[str]) -> None:
    """docs/results/<topic>.json (rows) and <topic>.md (the given lines); the page is printed
    too."""
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{topic}.json").write_text(json.dumps(rows, indent=1) + "\n")
    (out / f"{topic}.md").write_text("\n".join(markdown) + "\n")
    print("\n".join(markdown))


def save_figure(figure, path: Path) -> None:
    """Write a matplotlib figure as the PNG beside a results page, and free it."""
    import matplotlib.pyplot as plt

    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)


def summary(values: list[float]) -> dict:
    """mean, sample std (None for one value) and the values, rounded to 1e-4: pages print one
    decimal, and a value kept to 0.01 would round twice (195/232 = 84.0517 → 84.05 → 84.0)."""
    return {"mean": round(statistics.mean(values), 4),
            "std": round(statistics.stdev(values), 4) if len(values) > 1 else None,
            "values": [round(v, 4) for v in values]}


def cell(row: dict, digits: int = 1) -> str:
    """'mean ± std (v1, v2, ...)' of a result row, for Markdown tables."""
    spread = f" ± {row['std']:.{digits}f}" if row["std"] is not None else ""
    values = ", ".join(f"{v:.{digits}f}" for v in row["values"])
    return f"{row['mean']:.{digits}f}{spread} ({values})"


def pretrain_seconds(run_dir: Path) -> float:
    """Sum of a run's epoch times (metrics.csv); 0 for a run without epochs."""
    metrics = run_dir / "metrics.csv"
    if not metrics.is_file():
        return 0.0
    lines = metrics.read_text().splitlines()
    column = lines[0].split(",").index("epoch_time_s")
    return sum(float(line.split(",")[column]) for line in lines[1:])


def pretrain_commits(run_dir: Path) -> set[str]:
    """The skelssl commits that started or resumed a run (its run.json)."""
    return {start["commit"] for start in json.loads((run_dir / "run.json").read_text())["starts"]}


def linear_and_nearest_neighbour(run_dir: Path, preset: str, weights: str = "trained",
                                 stream: str = "joint") -> dict[str, float]:
    """Linear probe (``preset``, final and best test epoch) and 1-NN of one of a run's
    encoders; each result is also written to the run's results/ folder."""
    from skelssl.eval.protocol import knn_eval, linear_probe, load_run, write_result

    run = load_run(run_dir, weights)
    linear = linear_probe(run, stream, preset)
    knn = knn_eval(run, stream, 1, 0.1)
    for result in (linear, knn):
        write_result(run, result)
    return {"linear": linear["top1"], "linear_best": linear["best_test_epoch"]["top1"],
            "knn": knn["top1"]}


def run_family(spec: str) -> tuple[str, list[Path]]:
    """NAME=DIR,DIR,... → (NAME, [DIR, ...]), each DIR a path or a glob pattern."""
    name, _, dirs = spec.partition("=")
    if not name or not dirs:
        raise argparse.ArgumentTypeError(f"{spec!r}: expected NAME=DIR[,DIR...]")
    found = [match for pattern in dirs.split(",") for match in sorted(glob.glob(pattern))]
    if not found:
        raise argparse.ArgumentTypeError(f"{spec!r}: no run directory matches")
    return name, [Path(d) for d in found]
