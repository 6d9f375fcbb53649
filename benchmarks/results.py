"""Writing benchmark results in the format of docs/results (JSON rows + a Markdown page)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from skelssl.engine.run_dir import git_commit, machine


def provenance(command: str | None = None) -> dict:
    """The fields every row shares: command, commit and machine."""
    return {"command": command or " ".join(["python", *sys.argv]), "commit": git_commit(),
            "machine": machine()}


def write_results(out: Path, topic: str, rows: list[dict], markdown: list[str]) -> None:
    """docs/results/<topic>.json (rows) and <topic>.md (the given lines)."""
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{topic}.json").write_text(json.dumps(rows, indent=1) + "\n")
    (out / f"{topic}.md").write_text("\n".join(markdown) + "\n")
