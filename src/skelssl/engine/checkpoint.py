"""Atomic checkpoint files: written to a temporary name, flushed, then renamed into place."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import torch
from torch import nn


def save_atomic(state: Any, path: Path) -> None:
    """``torch.save`` to ``path`` so that a crash leaves either the old or the new file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as file:
            torch.save(state, file)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def load_checkpoint(path: Path) -> dict[str, Any]:
    """Read a checkpoint written by skelssl onto the CPU."""
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no checkpoint here")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:
        raise ValueError(f"{path}: not a readable skelssl checkpoint ({error})") from error


def finished_epochs(run_dir: str | Path) -> int | None:
    """Epochs a run directory's ``last.pt`` has completed; None when it holds no checkpoint."""
    from skelssl.engine.run_dir import LAST_CHECKPOINT

    checkpoint = Path(run_dir) / LAST_CHECKPOINT
    return int(load_checkpoint(checkpoint)["epoch"]) if checkpoint.is_file() else None


def load_strict(module: nn.Module, state: dict[str, torch.Tensor], source: str) -> None:
    """Load weights, failing with the exact missing and unexpected keys."""
    result = module.load_state_dict(state, strict=False)
    if result.missing_keys or result.unexpected_keys:
        raise ValueError(f"{source}: weights do not fit the model built from the config; "
                         f"missing {result.missing_keys[:8]}, unexpected "
                         f"{result.unexpected_keys[:8]}")


def load_run_encoder(run_dir: str | Path, encoder: nn.Module, stream: str = "joint") -> int:
    """Load the ``stream`` encoder of a finished run (its ``encoder.pt``) into ``encoder``.

    Used by methods that start from, or distil, another run's encoder. Returns that run's epoch.
    """
    from skelssl.engine.run_dir import ENCODER_CHECKPOINT

    path = Path(run_dir) / ENCODER_CHECKPOINT
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no encoder here; train that run first "
                                f"(skelssl pretrain ... --out {run_dir})")
    state = load_checkpoint(path)
    if stream not in state["encoders"]:
        raise ValueError(f"{path}: no {stream!r} encoder (has {sorted(state['encoders'])})")
    prefix = "encoder."  # encoder.pt stores each encoder inside its StreamEncoder wrapper
    weights = {key.removeprefix(prefix): value for key, value in state["encoders"][stream].items()
               if key.startswith(prefix)}
    load_strict(encoder, weights, str(path))
    return int(state["epoch"])
