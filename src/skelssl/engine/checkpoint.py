"""Atomic checkpoint files: written to a temporary name, flushed, then renamed into place."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path
from typing import Any

import torch
from torch import nn

from skelssl.data.prepare import user_mode
from skelssl.engine.run_dir import LAST_CHECKPOINT, PREVIOUS_CHECKPOINT
from skelssl.errors import RunError


def save_atomic(state: Any, path: Path, keep_previous: Path | None = None) -> None:
    """``torch.save`` to ``path`` so that a crash leaves either the old or the new file; with
    ``keep_previous``, the old file moves there once the new one is complete."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as file:
            torch.save(state, file)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temp, user_mode())
        if keep_previous is not None and path.is_file():
            os.replace(path, keep_previous)
        os.replace(temp, path)
    except RuntimeError as error:  # torch reports a full disk as a RuntimeError
        Path(temp).unlink(missing_ok=True)
        raise RunError(f"{path}: could not write the checkpoint (is the disk full? "
                       f"{' '.join(str(error).split())[:200]})") from None
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise



def load_checkpoint(path: Path) -> dict[str, Any]:
    """Read a checkpoint written by skelssl onto the CPU (tensors and plain values only)."""
    if not path.is_file():
        raise RunError(f"{path}: no checkpoint here")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:
        raise RunError(f"{path}: not a readable skelssl checkpoint ({error})") from error
    if not isinstance(state, dict):
        raise RunError(f"{path}: not a skelssl checkpoint (holds a {type(state).__name__})")
    return state


def finished_epochs(run_dir: str | Path) -> int | None:
    """Epochs a run directory's ``last.pt`` has completed; None when it holds no checkpoint."""
    found = resume_state(Path(run_dir))
    return None if found is None else int(found[0]["epoch"])


def resume_state(run_dir: Path) -> tuple[dict[str, Any], Path] | None:
    """The training state to resume from and its file: ``last.pt``, or, when that is missing
    or unreadable (damaged, or a crash between two renames), ``previous.pt``."""
    last, previous = run_dir / LAST_CHECKPOINT, run_dir / PREVIOUS_CHECKPOINT
    problem = None
    if last.is_file():
        try:
            return load_checkpoint(last), last
        except RunError as error:
            problem = error
    if previous.is_file():
        if problem is not None:
            print(f"warning: {problem}; resuming from {previous.name} (one epoch earlier)",
                  file=sys.stderr)
        return load_checkpoint(previous), previous
    if problem is not None:
        raise problem
    return None


def load_strict(module: nn.Module, state: dict[str, torch.Tensor], source: str) -> None:
    """Load weights, failing with the exact missing and unexpected keys or shapes."""
    try:
        result = module.load_state_dict(state, strict=False)
    except RuntimeError as error:  # same names, other shapes
        raise RunError(f"{source}: weights do not fit the model built from the config "
                       f"({' '.join(str(error).split())[:400]})") from None
    if result.missing_keys or result.unexpected_keys:
        raise RunError(f"{source}: weights do not fit the model built from the config; "
                       f"missing {result.missing_keys[:8]}, unexpected "
                       f"{result.unexpected_keys[:8]}")
