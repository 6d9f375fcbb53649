"""``encoder.pt``: what evaluation and later runs need of a run, and nothing of its method.

Format 2 (this skelssl) stores, per evaluated encoder, its weights and a description (encoder
config, input channels, persons, input stream, layout, feature size), so an encoder is rebuilt
from :mod:`skelssl.models` alone::

    {"format": 2, "epoch": E, "config": {...run config...},
     "encoders": {name: {"description": {...}, "state": {...weights...}}}}

Files of earlier skelssl versions (no ``format``: weights stored inside each encoder's stream
wrapper, no description) are still read: their weights directly, their descriptions by
rebuilding the run's method from the config they carry, on the run's dataset.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from skelssl.config import RunConfig, load_config, to_dict
from skelssl.data.dataset import PreparedDataset
from skelssl.engine.checkpoint import load_checkpoint, load_strict
from skelssl.engine.run_dir import (
    ENCODER_CHECKPOINT,
    LAST_CHECKPOINT,
    final_stage_dir,
    kept_snapshots,
    snapshot_file,
)
from skelssl.errors import RunError, UserError
from skelssl.methods import RunModule, RunWeights, as_method, build_method
from skelssl.models.stream_encoder import StreamEncoder

FORMAT = 2
LEGACY_PREFIX = "encoder."  # format 1 kept each encoder inside its StreamEncoder wrapper


def encoder_file_state(encoders: dict[str, StreamEncoder], config: RunConfig, epoch: int
                       ) -> dict[str, Any]:
    """The content of ``encoder.pt`` for a method's ``encoders()`` after ``epoch`` epochs."""
    return {"format": FORMAT, "epoch": epoch, "config": to_dict(config),
            "encoders": {name: {"description": encoder.describe(),
                                "state": encoder.encoder.state_dict()}
                         for name, encoder in encoders.items()}}


@dataclass
class EncoderFile:
    """A run's ``encoder.pt``, read."""

    path: Path
    epoch: int
    config: dict[str, Any]
    states: dict[str, dict[str, torch.Tensor]]
    described: dict[str, dict[str, Any]] | None  # None: a format-1 file

    def descriptions(self, data: PreparedDataset | None = None) -> dict[str, dict[str, Any]]:
        """Each encoder's description; a format-1 file needs the run's dataset (its layout
        and channels) to rebuild them."""
        if self.described is not None:
            return self.described
        if data is None:
            raise RunError(f"{self.path}: written by an earlier skelssl; reading it needs the "
                           "run's prepared dataset (pass --data)")
        return legacy_descriptions(self, data)


def read_encoder_file(run_dir: Path, epoch: int | None = None) -> EncoderFile:
    """Read ``run_dir/encoder.pt`` (this format or the earlier one), or with ``epoch`` the
    snapshot the run kept after that many epochs (``train.snapshot_epochs``)."""
    path = run_dir / ENCODER_CHECKPOINT if epoch is None else snapshot_file(run_dir, epoch)
    if epoch is not None and not path.is_file():
        raise RunError(f"{path}: no snapshot after epoch {epoch}; this run kept "
                       f"{kept_snapshots(run_dir) or 'none'} (train.snapshot_epochs)")
    if not path.is_file():
        raise RunError(f"{path}: no encoder here; train that run first "
                       f"(skelssl pretrain ... --out {run_dir})")
    state = load_checkpoint(path)
    version = state.get("format", 1)
    if version not in (1, FORMAT) or not isinstance(state.get("encoders"), dict):
        raise RunError(f"{path}: encoder file format {version!r}; this skelssl reads formats "
                       f"1 and {FORMAT}")
    if version == 1:
        states = {name: {key.removeprefix(LEGACY_PREFIX): value for key, value in weights.items()
                         if key.startswith(LEGACY_PREFIX)}
                  for name, weights in state["encoders"].items()}
        return EncoderFile(path, int(state["epoch"]), state["config"], states, None)
    return EncoderFile(path, int(state["epoch"]), state["config"],
                       {name: entry["state"] for name, entry in state["encoders"].items()},
                       {name: entry["description"] for name, entry in state["encoders"].items()})


def legacy_descriptions(file: EncoderFile, data: PreparedDataset) -> dict[str, dict[str, Any]]:
    """Descriptions of a format-1 file's encoders, from the method its config builds."""
    try:
        config = load_config(file.config, where=f"{file.path} (its config)")
    except UserError as error:
        raise RunError(f"{file.path}: written by an earlier skelssl whose config this version "
                       f"cannot read ({error})") from None
    torch.manual_seed(config.seed)
    method = build_method(config.method, config.encoder_sections(), layout=data.layout,
                          channels=data.channels, persons=config.data.persons)
    encoders = {name: encoder.describe()
                for name, encoder in as_method(method).encoders().items()}
    if set(encoders) != set(file.states):
        raise RunError(f"{file.path}: holds encoders {sorted(file.states)}, its config builds "
                       f"{sorted(encoders)}")
    return encoders


def load_run_weights(wanted: RunWeights | RunModule) -> int:
    """Load the encoder, or the part of its method, a method asks for from another run (the
    last stage of a pipeline); returns that run's epoch."""
    run_dir = final_stage_dir(Path(wanted.run_dir))
    if isinstance(wanted, RunModule):
        return load_run_module(run_dir, wanted)
    file = read_encoder_file(run_dir)
    if wanted.encoder not in file.states:
        raise RunError(f"{file.path}: no encoder {wanted.encoder!r} "
                       f"(has {sorted(file.states)})")
    load_strict(wanted.into, file.states[wanted.encoder], f"{file.path} [{wanted.encoder}]")
    return file.epoch


def load_run_module(run_dir: Path, wanted: RunModule) -> int:
    """The weights under ``wanted.module`` in the method state of ``run_dir``'s last
    checkpoint into ``wanted.into``; returns the checkpoint's epoch."""
    path = run_dir / LAST_CHECKPOINT
    state = load_checkpoint(path)
    prefix = f"{wanted.module}."
    weights = {key.removeprefix(prefix): value for key, value in state.get("method", {}).items()
               if key.startswith(prefix)}
    if not weights:
        raise RunError(f"{path}: its method has no module {wanted.module!r}")
    load_strict(wanted.into, weights, f"{path} [{wanted.module}]")
    return int(state["epoch"])


def load_encoder(encoder: nn.Module, file: EncoderFile, name: str) -> None:
    """The weights of encoder ``name`` of ``file`` into ``encoder`` (strict, all finite)."""
    if name not in file.states:
        raise RunError(f"{file.path}: no encoder {name!r} (has {sorted(file.states)})")
    broken = [key for key, value in file.states[name].items()
              if value.is_floating_point() and not torch.isfinite(value).all()]
    if broken:
        raise RunError(f"{file.path}: encoder {name!r} has non-finite weights ({broken[:3]}): "
                       "its training diverged or the file is damaged")
    load_strict(encoder, file.states[name], f"{file.path} [{name}]")
