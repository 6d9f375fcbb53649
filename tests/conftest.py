"""Shared fixtures: where the real data lives, and skip markers when it is absent."""

from __future__ import annotations

import importlib.util
import os
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import pytest

SHARED_DATA = Path(os.environ.get("SKELSSL_TEST_DATA") or
                   Path(__file__).resolve().parents[1].parent / "shared" / "data")
NTU_SAMPLES = SHARED_DATA / "ntu-samples"
NW_UCLA = SHARED_DATA / "nw-ucla" / "all_sqe"
BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
TRUNCATED_NTU = ("S005C002P013R002A056", "S012C001P008R002A030")

needs_ntu = pytest.mark.skipif(not NTU_SAMPLES.is_dir(),
                               reason=f"real NTU samples not found at {NTU_SAMPLES}")
needs_ucla = pytest.mark.skipif(not NW_UCLA.is_dir(),
                                reason=f"NW-UCLA all_sqe not found at {NW_UCLA}")


@pytest.fixture
def benchmark(monkeypatch) -> Callable[[str], ModuleType]:
    """Loads a script of benchmarks/ by name as a module, its sibling modules importable."""

    def load(name: str) -> ModuleType:
        monkeypatch.syspath_prepend(str(BENCHMARKS))
        spec = importlib.util.spec_from_file_location(name, BENCHMARKS / f"{name}.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        monkeypatch.setitem(sys.modules, name, module)  # dataclasses look their module up
        spec.loader.exec_module(module)
        return module

    return load


@pytest.fixture(scope="session")
def small_synthetic():
    """A small in-memory synthetic raw dataset (16 classes × 6)."""
    from skelssl.data.synthetic import make_synthetic

    return make_synthetic(per_class=6, seed=3)


@pytest.fixture(scope="session")
def prepared_synthetic(tmp_path_factory):
    """A tiny prepared synthetic dataset on disk (16 classes × 3, benchmarks xsub/xview)."""
    from skelssl.data.prepare import PrepareOptions, prepare

    path, _ = prepare("synthetic", tmp_path_factory.mktemp("data") / "synthetic",
                      PrepareOptions(per_class=3, seed=1))
    return path


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory, prepared_synthetic):
    """A tiny SkeletonCLR run (1 epoch) on the prepared synthetic dataset, shared by the
    evaluation tests (they add results, features and finetuning runs to it)."""
    from skelssl.config import load_config
    from skelssl.engine.trainer import pretrain

    path = tmp_path_factory.mktemp("runs") / "tiny"
    pretrain(load_config(tiny_config(prepared_synthetic, train={"epochs": 1})), path,
             progress=False)
    return path


@pytest.fixture(scope="session")
def tiny_actclr_run(tmp_path_factory, prepared_synthetic):
    """A tiny ActCLR run (1 epoch, no dropout) on the prepared synthetic dataset, read by the
    actionlet tests (pictures, region features, the Fig. 3 page); none writes into it."""
    from skelssl.config import load_config
    from skelssl.engine.trainer import pretrain

    values = tiny_config(prepared_synthetic, train={"epochs": 1})
    values["method"] = {"name": "actclr", "queue_size": 32, "projection_dim": 8}
    values["encoder"]["dropout"] = 0.0
    path = tmp_path_factory.mktemp("runs") / "actclr"
    pretrain(load_config(values), path, progress=False)
    return path


@pytest.fixture
def fast_preset(monkeypatch):
    """A 3-epoch linear preset named "fast", registered for one test."""
    from skelssl.eval import linear

    preset = linear.LinearPreset(lr=0.5, batch_size=8, epochs=3, milestones=(2,), gamma=0.1)
    monkeypatch.setitem(linear.LINEAR_PRESETS, "fast", preset)
    return "fast"


def factory(build):
    """An encoder factory (what a method's ``from_config`` receives) that calls ``build()``
    for every encoder the method asks for."""
    return lambda slot="encoder", in_channels=None: build()


def tiny_stgcn():
    """An encoder factory of 4-channel ST-GCNs on NTU-25 without dropout (16-d features)."""
    from skelssl.models.stgcn import STGCN

    return factory(lambda: STGCN("ntu25", hidden_channels=4, feature_dim=16, dropout=0.0))


def tiny_queue_method(method_class, **options):
    """A queue method (AimCLR, ActCLR) with a 16-key queue, 8-d projections and momentum 0.9
    on tiny NTU-25 ST-GCNs."""
    import torch

    from skelssl.skeleton import NTU25

    torch.manual_seed(0)
    config = method_class.Config(queue_size=16, projection_dim=8, momentum=0.9, **options)
    return method_class(config, layout=NTU25, encoders=tiny_stgcn())


def ntu_batch():
    """Four fixed random two-person NTU-25 sequences of 12 valid frames."""
    import torch

    from skelssl.methods import Batch

    x = torch.randn(4, 3, 12, 25, 2, generator=torch.Generator().manual_seed(0))
    return Batch(x, torch.full((4,), 12))


WIDTH_KEYS = {"stgcn": "hidden_channels", "agcn": "base_channels"}


def shrunk_encoder(name: str, prefix: str = "encoder") -> list[str]:
    """Overrides that shrink a shipped graph-encoder section to 4 channels and 16-d features."""
    return [f"{prefix}.{WIDTH_KEYS[name]}=4", f"{prefix}.feature_dim=16"]


def tiny_config(data_path, **sections) -> dict:
    """A SkeletonCLR config small enough to train an epoch in well under a second."""
    config = {
        "method": {"name": "skeletonclr", "queue_size": 32, "projection_dim": 8,
                   "momentum": 0.9},
        "encoder": {"name": "stgcn", "hidden_channels": 4, "feature_dim": 16, "dropout": 0.5},
        "data": {"path": str(data_path), "benchmark": "xsub", "frames": 12, "workers": 0},
        "train": {"epochs": 2, "batch_size": 8, "lr": 0.05, "milestones": [1]},
        "eval": {"knn_k": [1, 5], "batch_size": 16},
        "seed": 0,
    }
    for section, values in sections.items():
        if isinstance(values, dict):
            config[section] = {**config[section], **values}
        else:
            config[section] = values
    return config


def tiny_isc_config(data_path, **method) -> dict:
    """An ISC config of tiny sequence, graph and image encoders (sequence–graph by default)."""
    values = tiny_config(data_path, train={"epochs": 1, "batch_size": 8})
    del values["encoder"]
    values["method"] = {"name": "isc", "queue_size": 12, "projection_dim": 8, "momentum": 0.9,
                        "frames": 12, **method}
    values["encoders"] = {"sequence": {"name": "bigru", "hidden_size": 8, "layers": 1},
                          "graph": {"name": "agcn", "base_channels": 4, "feature_dim": 16},
                          "image": {"name": "hcn", "channels": 4, "window": 12, "grid": 2}}
    return values


def write_skeleton(path, frames, joints=25):
    """Write an NTU .skeleton file; ``frames`` is a list of lists of (V, 3) bodies."""
    lines = [str(len(frames))]
    for bodies in frames:
        lines.append(str(len(bodies)))
        for b, body in enumerate(bodies):
            lines.append(f"{1000 + b} 0 1 1 1 1 0 0.1 0.2 2")
            lines.append(str(joints))
            lines += [" ".join(f"{v:.4f}" for v in (*xyz, 0, 0, 0, 0, 1, 0, 0, 0, 2))
                      for xyz in body]
    path.write_text("\n".join(lines) + "\n")
    return path
