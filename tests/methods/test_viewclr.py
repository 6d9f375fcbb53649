"""ViewCLR: its config, its views, and its loss over the global batch under DDP."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
import torch.nn.functional as F

from conftest import factory, tiny_config
from skelssl.config import dump_config, load_config, read_yaml
from skelssl.engine.optim import make_optimizer
from skelssl.errors import ConfigError
from skelssl.losses import nt_xent
from skelssl.methods import Batch, as_method, build_method
from skelssl.methods.ranks import gather_with_grad
from skelssl.methods.viewclr import ViewCLR, ViewCLRConfig
from skelssl.models.stgcn import STGCN
from skelssl.skeleton import NTU25, load_layout
from skelssl.transforms.normalize import center

ENV = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}
CONFIGS = sorted((Path(__file__).resolve().parents[2] / "configs" / "viewclr").glob("*.yaml"))
VIEWCLR = {"name": "viewclr", "projection_dim": 8}


def viewclr_config(data_path, **method) -> dict:
    values = tiny_config(data_path, train={"optimizer": "lars", "lr": 0.3, "schedule": "cosine",
                                           "warmup_epochs": 1, "milestones": []})
    values["method"] = {**VIEWCLR, **method}
    return values


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.name)
def test_every_viewclr_config_takes_a_lars_step(path):
    """Each experiment-list config (encoders shrunk to 4 channels) trains one step on random
    sequences of its dataset's shape with its own camera, optimiser and schedule."""
    stgcn = read_yaml(path)["encoder"]["name"] == "stgcn"
    config = load_config(path, ["encoder.hidden_channels=4", "encoder.feature_dim=16"] if stgcn
                         else ["encoder.base_channels=4"])
    layout = load_layout("ucla20" if "nw-ucla" in path.name else "ntu25")
    torch.manual_seed(0)
    model = build_method(config.method, config.encoder_sections(), layout=layout, channels=3,
                         persons=config.data.persons)
    optimizer = make_optimizer(model, config.train)
    x = torch.randn(4, 3, 10, layout.num_joints, config.data.persons)
    out = as_method(model).training_step(Batch(x, torch.full((4,), 10)), 0,
                                         torch.Generator().manual_seed(0))
    out["loss"].backward()
    before = [p.detach().clone() for p in model.parameters()]
    optimizer.step()
    assert torch.isfinite(out["loss"])
    assert any(not torch.equal(a, b) for a, b in zip(before, model.parameters(), strict=True))


@pytest.mark.parametrize("method, message", [
    ({"distance_unit": [0.0, 1.0]}, r"method.distance_unit = \[0.0, 1.0\]: expected 3"),
    ({"angles": []}, "method.angles: expected at least one value"),
    ({"alpha": "sideways"}, "method.alpha"),
    ({"per_frames": True}, "per_frame"),
])
def test_bad_camera_settings_name_the_key(prepared_synthetic, method, message):
    with pytest.raises(ConfigError, match=message):
        load_config(viewclr_config(prepared_synthetic, **method))


def test_an_identity_camera_only_moves_the_body_centre_to_the_origin():
    config = ViewCLRConfig(alpha=0.0, beta=0.0, gamma=0.0, distance=0.0)
    model = ViewCLR(config, layout=NTU25, encoders=factory(
        lambda: STGCN("ntu25", hidden_channels=4, feature_dim=16)))
    x = torch.randn(3, 3, 6, NTU25.num_joints, 1)
    lengths = torch.full((3,), 6)
    torch.testing.assert_close(model.augment(x, lengths, None),
                               center(x, lengths, NTU25.center, "first"))


def _gather_and_backward(rank: int, init_file: str, z: torch.Tensor, out: str) -> None:
    dist.init_process_group("gloo", init_method=f"file://{init_file}", rank=rank, world_size=2)
    mine = z.chunk(2)[rank].clone().requires_grad_(True)
    n = mine.shape[0] // 2
    loss = nt_xent(gather_with_grad(mine[:n]), gather_with_grad(mine[n:]), 0.3)
    loss.backward()
    torch.save({"loss": loss.detach(), "grad": mine.grad}, f"{out}/rank{rank}.pt")
    dist.destroy_process_group()


@pytest.mark.slow
def test_gathered_nt_xent_gives_each_rank_the_gradient_of_the_global_loss(tmp_path):
    """Two ranks, each with 2 samples (views 1 and 2): the loss is the single-process loss over
    all 4 samples, and each rank's gradient is world size × that loss's gradient w.r.t. its
    own embeddings (DDP then averages over ranks)."""
    g = torch.Generator().manual_seed(0)
    z = F.normalize(torch.randn(8, 5, generator=g), dim=1)  # rank r holds rows 4r..4r+3
    mp.spawn(_gather_and_backward, args=(str(tmp_path / "init"), z, str(tmp_path)),
             nprocs=2, join=True)
    ranks = [torch.load(tmp_path / f"rank{r}.pt") for r in range(2)]
    whole = z.clone().requires_grad_(True)
    parts = whole.view(2, 2, 2, 5)  # rank, view, sample, dim
    expected = nt_xent(parts[:, 0].reshape(4, 5), parts[:, 1].reshape(4, 5), 0.3)
    expected.backward()
    for rank, result in enumerate(ranks):
        torch.testing.assert_close(result["loss"], expected.detach())
        torch.testing.assert_close(result["grad"] / 2, whole.grad.chunk(2)[rank])


@pytest.mark.slow
def test_two_process_ddp_trains_viewclr_with_lars(tmp_path, prepared_synthetic):
    path = tmp_path / "config.yaml"
    values = viewclr_config(prepared_synthetic)
    values["train"]["epochs"] = 1
    path.write_text(dump_config(load_config(values)))
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone",
               "--nproc_per_node", "2", "-m", "skelssl", "pretrain", str(path), "--out",
               str(tmp_path / "ddp"), "--quiet"]
    done = subprocess.run(command, env=ENV, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    metrics = (tmp_path / "ddp" / "metrics.csv").read_text().splitlines()
    assert len(metrics) == 2 and "spread" in metrics[0]
