"""An ActCLR run's actionlets on real sequences: for pictures (`skelssl plot actionlet`) and for
features pooled over their regions (ActCLR's Fig. 3, benchmarks/actclr_regions.py).

Evaluation never rebuilds a method; an actionlet needs ActCLR's key encoder and head, so this
rebuilds the run's method from its last checkpoint, as training left it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import cast

import numpy as np
import torch

from skelssl.config import RunConfig, load_config
from skelssl.data.dataset import PreparedDataset
from skelssl.data.loader import BatchReader
from skelssl.engine.assembly import build_run_method, preprocess_for
from skelssl.engine.checkpoint import load_checkpoint, load_strict
from skelssl.engine.run_dir import CONFIG_FILE, final_stage_dir
from skelssl.errors import RunError
from skelssl.methods.actclr import ActCLR
from skelssl.models.actionlet import actionlet_pool
from skelssl.models.masking import MapEncoder
from skelssl.skeleton import Layout
from skelssl.transforms.streams import stream

REGIONS = ("actionlet", "non-actionlet", "actionlet top half", "bottom half", "all")


@dataclass
class SampleActionlet:
    """One sequence as the run saw it, its actionlet and the static anchor."""

    name: str
    joints: np.ndarray  # (M, T, V, C)
    actionlet: np.ndarray  # (T, V), one person's (person 0)
    anchor: np.ndarray  # (M, T, V, C): the average motion
    layout: Layout


def _load_actclr(run_dir: Path) -> tuple[ActCLR, RunConfig, PreparedDataset]:
    """The ActCLR method of a run as its last checkpoint left it (eval mode), its config and
    its dataset."""
    run_dir = final_stage_dir(run_dir)
    checkpoint = run_dir / "last.pt"
    if not (run_dir / CONFIG_FILE).is_file() or not checkpoint.is_file():
        raise RunError(f"{run_dir}: no run with a checkpoint here (config.yaml, last.pt)")
    config = load_config(run_dir / CONFIG_FILE)
    if config.method.name != "actclr":
        raise RunError(f"{run_dir}: a {config.method.name} run; actionlets come from ActCLR "
                       "runs (configs/actclr/)")
    data = PreparedDataset.open(config.data.path)
    method = cast(ActCLR, build_run_method(config, data))
    load_strict(method, load_checkpoint(checkpoint)["method"], str(checkpoint))
    return method.eval(), config, data


def sample_actionlet(run_dir: str | Path, sample: int, split: str = "test",
                     anchor_samples: int = 256) -> SampleActionlet:
    """The actionlet of sample number ``sample`` of ``split`` (an index into that split),
    against the average motion of the first ``anchor_samples`` training sequences."""
    method, config, data = _load_actclr(Path(run_dir))
    split_name = config.data.test_split if split == "test" else config.data.train_split
    chosen = data.indices(config.data.benchmark, split_name)
    if not 0 <= sample < len(chosen):
        raise RunError(f"--sample {sample}: the {split} split has {len(chosen)} sequences "
                       f"(0..{len(chosen) - 1})")
    preprocess = preprocess_for(config.data, data.layout)
    reader = BatchReader(data, [])
    train = data.indices(config.data.benchmark, config.data.train_split)[:anchor_samples]
    x, lengths, _ = reader.read(np.asarray([chosen[sample]]))
    anchor_x, anchor_lengths, _ = reader.read(train)
    x, _ = preprocess(x, lengths)
    anchor_x, _ = preprocess(anchor_x, anchor_lengths)
    anchor = anchor_x.mean(dim=0, keepdim=True)
    with torch.no_grad():
        weights = method.at_input(method.actionlets(x, anchor), x)  # (1, 1, T, V, M)

    def people(y: torch.Tensor) -> np.ndarray:
        return y[0].permute(3, 1, 2, 0).numpy()  # (M, T, V, C)

    return SampleActionlet(data.names[int(chosen[sample])], people(x),
                           weights[0, 0, :, :, 0].numpy(), people(anchor), data.layout)


@dataclass
class RegionFeatures:
    """A split's features pooled over regions of the run's actionlets (ActCLR's Fig. 3), with
    how concentrated those actionlets are."""

    features: dict[str, torch.Tensor]  # region -> (N, C)
    labels: torch.Tensor  # (N,)
    actionlet_mean: float  # mean of A over every cell of the split
    top_half_mass: float  # share of Σ A on each map's top half of cells (0.5: uniform A)


def top_half(actionlet: torch.Tensor) -> torch.Tensor:
    """Binary weights (N, T, V): 1 on the half of each map's cells where A is largest."""
    flat = actionlet.flatten(1)
    chosen = flat.topk((flat.shape[1] + 1) // 2, dim=1).indices
    return torch.zeros_like(flat).scatter_(1, chosen, 1.0).view_as(actionlet)


def region_features(run_dir: str | Path, split: str, anchor_samples: int = 256,
                    batch_size: int = 64) -> RegionFeatures:
    """Features of every sequence of a split (``train`` or ``test``) pooled from the query
    encoder's last maps (ActCLR's Fig. 3): weighted by the actionlet A, by the rest 1 − A, over
    the half of the cells where A is largest, over the other half, and over everything."""
    method, config, data = _load_actclr(Path(run_dir))
    preprocess = preprocess_for(config.data, data.layout)
    reader = BatchReader(data, [])
    split_name = config.data.test_split if split == "test" else config.data.train_split
    index = data.indices(config.data.benchmark, split_name)
    train = data.indices(config.data.benchmark, config.data.train_split)[:anchor_samples]
    anchor_x, anchor_lengths, _ = reader.read(train)
    anchor = preprocess(anchor_x, anchor_lengths)[0].mean(dim=0, keepdim=True)
    pooled: dict[str, list[torch.Tensor]] = {name: [] for name in REGIONS}
    mass, top_mass, cells = 0.0, 0.0, 0
    encoder = cast(MapEncoder, method.encoder_q)
    for start in range(0, len(index), batch_size):
        x, lengths, _ = reader.read(index[start:start + batch_size])
        x, lengths = preprocess(x, lengths)
        actionlet = method.actionlets(x, anchor)
        with torch.no_grad():
            maps, mask = encoder.maps_and_mask(stream(x, config.method.stream, data.layout),
                                               lengths)
            top = top_half(actionlet)
            mass += float(actionlet.sum())
            top_mass += float((actionlet * top).sum())
            cells += actionlet.numel()
            weights = {"actionlet": actionlet, "non-actionlet": 1 - actionlet,
                       "actionlet top half": top, "bottom half": 1 - top}
            persons = x.shape[4]
            for name, weight in weights.items():
                pooled[name].append(actionlet_pool(maps, weight).view(len(x), persons, -1)
                                    .mean(dim=1))
            pooled["all"].append(encoder.pool(maps, mask, persons))
    labels = torch.from_numpy(data.labels[index].astype(np.int64))
    return RegionFeatures({name: torch.cat(parts) for name, parts in pooled.items()}, labels,
                          mass / cells, top_mass / mass if mass > 0 else float("nan"))
