"""What a run directory holds besides checkpoints: config, provenance, metrics, curves."""

from __future__ import annotations

import csv
import io
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import torch
import yaml

from skelssl import __version__
from skelssl.errors import RunError
from skelssl.methods.collapse import SPREAD

CONFIG_FILE = "config.yaml"
PIPELINE_FILE = "pipeline.yaml"
LOCK_FILE = ".lock"
RUN_FILE = "run.json"
METRICS_FILE = "metrics.csv"
LAST_CHECKPOINT = "last.pt"
PREVIOUS_CHECKPOINT = "previous.pt"  # last.pt of the epoch before, kept as a fallback
ENCODER_CHECKPOINT = "encoder.pt"
SNAPSHOT_DIR = "snapshots"  # encoder.pt as it was after chosen epochs (train.snapshot_epochs)
SNAPSHOT_PREFIX = "encoder-epoch"


def snapshot_file(run_dir: Path, epoch: int) -> Path:
    """Where a run keeps its encoders as they were after ``epoch`` epochs."""
    return run_dir / SNAPSHOT_DIR / f"{SNAPSHOT_PREFIX}{epoch}.pt"


def kept_snapshots(run_dir: Path) -> list[int]:
    """The epochs after which a run kept its encoders, in order."""
    names = (file.stem.removeprefix(SNAPSHOT_PREFIX)
             for file in (run_dir / SNAPSHOT_DIR).glob(f"{SNAPSHOT_PREFIX}*.pt"))
    return sorted(int(name) for name in names if name.isdigit())


def git_commit(source: Path | None = None) -> str:
    """The commit of the checkout holding ``source`` (default: skelssl's own), or ``unknown``;
    ``-dirty`` when a tracked file outside ``docs/`` is modified (results and documentation
    written since do not count)."""
    source = source or Path(__file__).resolve().parent
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=source,
                                capture_output=True, text=True, timeout=10, check=True)
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "--",
                                ":(top)", ":(top,exclude)docs"],
                               cwd=source, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return commit.stdout.strip() + ("-dirty" if dirty.stdout.strip() else "")


def machine() -> str:
    """A short description: the GPU's name, or the CPU's cores, model and widest vector unit
    (throughput on CPUs differs by it: bf16 is native only with AMX or AVX512-BF16)."""
    if torch.cuda.is_available():
        return f"{torch.cuda.get_device_name()} ({torch.cuda.device_count()} GPU)"
    details = [platform.machine()] + ([torch.backends.cpu.get_cpu_capability()]
                                      if platform.machine() in ("x86_64", "AMD64") else [])
    details += ["native bf16"] if cpu_has_bf16() else []
    return f"{os.cpu_count()}-core {cpu_model()} ({', '.join(details)})"


def cpu_has_bf16() -> bool:
    """Whether this CPU multiplies bf16 natively (AMX tiles or AVX512-BF16)."""
    checks = [getattr(torch.cpu, name, None) for name in ("_is_amx_tile_supported",
                                                           "_is_avx512_bf16_supported")]
    return any(check() for check in checks if check is not None)


def cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo, or ``CPU`` where there is none."""
    try:
        lines = Path("/proc/cpuinfo").read_text().splitlines()
    except OSError:
        return "CPU"
    names = [line.split(":", 1)[1].strip() for line in lines if line.startswith("model name")]
    return names[0] if names else "CPU"


def provenance() -> dict[str, Any]:
    return {"skelssl": __version__, "commit": git_commit(), "torch": torch.__version__,
            "python": platform.python_version(), "machine": machine(),
            "command": " ".join([Path(sys.argv[0]).name, *sys.argv[1:]]),
            "started": time.strftime("%Y-%m-%dT%H:%M:%S%z")}


class RunLock:
    """An exclusive lock on a run directory while a process trains into it: a second
    ``skelssl pretrain`` into the same directory stops with an error instead of overwriting
    the first one's work. The operating system releases it when the process ends, however it
    ends (no stale locks after a crash)."""

    def __init__(self, run_dir: Path) -> None:
        self.path = run_dir / LOCK_FILE
        self.file: Any = None

    def __enter__(self) -> RunLock:
        try:
            import fcntl
        except ImportError:  # not on POSIX: no locking
            return self
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.file = self.path.open("a+")
        try:
            fcntl.flock(self.file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self.file.seek(0)
            holder = self.file.read().strip() or "another process"
            self.file.close()
            raise RunError(f"{self.path.parent} is being trained by {holder}; wait for it to "
                           "finish, or choose another --out") from None
        self.file.seek(0)
        self.file.truncate()
        self.file.write(f"process {os.getpid()} on {platform.node()}")
        self.file.flush()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.file is not None:
            self.file.close()  # closing releases the lock


def holds_run(run_dir: Path) -> bool:
    """Whether ``run_dir`` holds a run with at least one checkpoint (its own, or a stage's)."""
    if (run_dir / LAST_CHECKPOINT).is_file() or (run_dir / PREVIOUS_CHECKPOINT).is_file():
        return True
    return (run_dir / PIPELINE_FILE).is_file() and any(
        (stage / LAST_CHECKPOINT).is_file() for stage in run_dir.iterdir() if stage.is_dir())


def final_stage_dir(run_dir: Path) -> Path:
    """The run directory evaluation should use: the last stage of a pipeline, else itself."""
    spec = run_dir / PIPELINE_FILE
    if not spec.is_file():
        return run_dir
    stages = (yaml.safe_load(spec.read_text()) or {}).get("stages") or {}
    return run_dir / list(stages)[-1] if stages else run_dir


def write_text_atomic(path: Path, text: str) -> None:
    temp = path.with_name(f".{path.name}.tmp")
    temp.write_text(text)
    os.replace(temp, path)


def write_provenance(run_dir: Path, config_text: str, resumed: bool) -> None:
    """Write the resolved config.yaml (overrides given on resume included) and append this
    start (or resume) to run.json."""
    run_dir.mkdir(parents=True, exist_ok=True)
    write_text_atomic(run_dir / CONFIG_FILE, config_text)
    run_file = run_dir / RUN_FILE
    starts = json.loads(run_file.read_text())["starts"] if run_file.is_file() else []
    starts.append({**provenance(), "resumed": resumed})
    write_text_atomic(run_file, json.dumps({"starts": starts}, indent=2))


def write_metrics(run_dir: Path, history: list[dict[str, float]]) -> None:
    """Rewrite metrics.csv from the full per-epoch history (kept in the checkpoint)."""
    if not history:
        return
    columns = list(dict.fromkeys(key for row in history for key in row))
    out = io.StringIO()
    writer = csv.DictWriter(out, columns)
    writer.writeheader()
    writer.writerows(history)
    write_text_atomic(run_dir / METRICS_FILE, out.getvalue())


def plot_curves(run_dir: Path, history: list[dict[str, float]]) -> Path | None:
    """curves.png: loss and learning rate per epoch, and the embedding spread of the collapse
    monitor when the method logs one."""
    if not history:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    epochs = [row["epoch"] for row in history]
    spreads = [key for key in history[-1] if key.split("_")[0] == SPREAD]
    figure, axes = plt.subplots(1, 3 if spreads else 2, figsize=(13.5 if spreads else 9, 3.2))
    panels = [("loss", [key for key in history[-1] if key.endswith("loss")], "training loss"),
              ("learning rate", ["lr"], "schedule"),
              ("spread (1: even, 0: collapsed)", spreads, "embedding spread")]
    for axis, (label, keys, title) in zip(axes, panels, strict=False):
        for key in keys:
            axis.plot(epochs, [row.get(key, float("nan")) for row in history], label=key)
        axis.set(xlabel="epoch", ylabel=label, title=title)
        if keys != ["lr"]:
            axis.legend()
    figure.tight_layout()
    path = run_dir / "curves.png"
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return path


class TensorBoard:
    """Scalars to ``run_dir/tensorboard`` when the tensorboard package is installed."""

    @staticmethod
    def available() -> bool:
        import importlib.util

        return importlib.util.find_spec("tensorboard") is not None

    def __init__(self, run_dir: Path, enabled: bool) -> None:
        self.writer = None
        if enabled:
            try:
                from torch.utils.tensorboard import SummaryWriter
            except ImportError:
                return
            self.writer = SummaryWriter(str(run_dir / "tensorboard"))

    def log(self, row: dict[str, float]) -> None:
        if self.writer is None:
            return
        for key, value in row.items():
            if key != "epoch":
                self.writer.add_scalar(key, value, int(row["epoch"]))
        self.writer.flush()

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
