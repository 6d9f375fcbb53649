"""AimCLR: the switches, the mining epoch (also across a resume), the mined positives and the
ablation configs."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from conftest import ntu_batch, shrunk_encoder, tiny_config, tiny_queue_method
from skelssl.config import load_config, read_yaml
from skelssl.engine.checkpoint import load_checkpoint
from skelssl.engine.trainer import pretrain
from skelssl.errors import ConfigError
from skelssl.losses import infonce_of_logits, moco_logits
from skelssl.methods import Batch, as_method, build_method
from skelssl.methods.aimclr import AimCLR, mined_positives
from skelssl.skeleton import load_layout

CONFIGS = sorted((Path(__file__).resolve().parents[2] / "configs" / "aimclr").glob("*.yaml"))


def tiny_aimclr(**options) -> AimCLR:
    return tiny_queue_method(AimCLR, **options)


def test_mining_starts_at_the_configured_epoch():
    method = tiny_aimclr(mining_epoch=2)
    before = method.training_step(ntu_batch(), epoch=1, generator=torch.Generator().manual_seed(0))
    after = method.training_step(ntu_batch(), epoch=2, generator=torch.Generator().manual_seed(0))
    assert before["mining"].item() == 0 and after["mining"].item() == 1
    assert not tiny_aimclr(mining=False, mining_epoch=0).mining_active(5)


def test_without_d3m_and_before_mining_the_loss_is_skeletonclrs_infonce():
    method = tiny_aimclr(d3m=False, mining_epoch=5)
    g = torch.Generator().manual_seed(3)
    queue = method.queue.keys.clone()
    out = method.training_step(ntu_batch(), epoch=0, generator=g)
    twin = tiny_aimclr(d3m=False, mining_epoch=5)
    g = torch.Generator().manual_seed(3)
    view_q, view_k = twin.augment(ntu_batch().x, g), twin.augment(ntu_batch().x, g)
    expected = infonce_of_logits(moco_logits(twin.embed_query(view_q),
                                             twin.embed_key(view_k), queue), 0.07)
    torch.testing.assert_close(out["loss"], expected)


def test_d3m_adds_the_mean_divergence_of_the_third_view_branches():
    for drop, branches in ((True, 2), (False, 1)):
        method = tiny_aimclr(drop=drop, mining_epoch=5)
        view = method.third_view(ntu_batch().x, torch.Generator().manual_seed(0))
        assert len(method.third_queries(view)) == branches
        out = method.training_step(ntu_batch(), epoch=0, generator=torch.Generator().manual_seed(0))
        torch.testing.assert_close(out["loss"], out["loss_contrast"] + out["loss_d3m"])
        assert out["loss_d3m"] > 0


def test_without_extreme_augmentations_the_third_view_is_a_normal_one():
    method = tiny_aimclr(extreme=False)
    third = method.third_view(ntu_batch().x, torch.Generator().manual_seed(4))
    normal = method.augment(ntu_batch().x, torch.Generator().manual_seed(4))
    torch.testing.assert_close(third, normal)
    extreme = tiny_aimclr().third_view(ntu_batch().x, torch.Generator().manual_seed(4))
    assert not torch.allclose(extreme, normal)


def test_mined_positives_are_the_key_and_the_top_neighbours_of_each_row():
    # rows [l_pos, l_neg over a queue of 4] of q, e and ed for two samples
    q = torch.tensor([[0.9, 0.1, 0.8, 0.3, 0.0], [0.5, 0.7, 0.1, 0.2, 0.3]])
    e = torch.tensor([[0.2, 0.6, 0.1, 0.0, 0.3], [0.5, 0.9, 0.0, 0.1, 0.2]])
    ed = torch.tensor([[0.4, 0.1, 0.2, 0.0, 0.5], [0.1, 0.8, 0.1, 0.0, 0.2]])
    assert mined_positives([q, e, ed], 1).tolist() == [[1, 1, 1, 0, 1], [1, 1, 0, 0, 0]]
    assert mined_positives([q], 2).tolist() == [[1, 0, 1, 1, 0], [1, 1, 0, 0, 1]]


@pytest.mark.parametrize("options, message", [
    ({"blur_sigma": [2.0, 0.1]}, r"method.blur_sigma = \[2.0, 0.1\]"),
    ({"blur_size": 14}, "method.blur_size = 14: expected an odd size"),
    ({"topk": 40}, r"method.topk = 40: expected at most the queue size \(32\)"),
])
def test_bad_settings_name_the_key(prepared_synthetic, options, message):
    values = tiny_config(prepared_synthetic)
    values["method"] = {"name": "aimclr", "queue_size": 32, "projection_dim": 8, **options}
    with pytest.raises(ConfigError, match=message):
        load_config(values)


def aimclr_config(data_path, epochs: int = 3):
    values = tiny_config(data_path, train={"epochs": epochs, "milestones": [epochs]})
    values["method"] = {"name": "aimclr", "queue_size": 32, "projection_dim": 8,
                        "momentum": 0.9, "mining_epoch": 1}
    values["encoder"]["dropout"] = 0.0
    return load_config(values)


@pytest.mark.slow
def test_resume_after_the_switch_is_exact_and_keeps_mining(tmp_path, prepared_synthetic):
    config = aimclr_config(prepared_synthetic)
    whole = pretrain(config, tmp_path / "whole", progress=False)
    pretrain(config, tmp_path / "parts", until_epoch=1, progress=False)
    resumed = pretrain(config, tmp_path / "parts", resume=True, progress=False)
    assert [row["mining"] for row in resumed] == [0.0, 1.0, 1.0]
    assert [row["loss"] for row in resumed] == [row["loss"] for row in whole]
    a, b = (load_checkpoint(tmp_path / d / "last.pt")["method"] for d in ("whole", "parts"))
    assert all(torch.equal(a[key], b[key]) for key in a)


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.name)
def test_every_aimclr_config_trains_a_few_steps(path):
    """Each config (ablations included; encoder shrunk) takes three steps on random
    sequences of its dataset's shape, across its mining switch."""
    config = load_config(path, [*shrunk_encoder(read_yaml(path)["encoder"]["name"]),
                                "method.queue_size=16", "method.mining_epoch=1"])
    layout = load_layout("ucla20" if "nw-ucla" in path.name else "ntu25")
    torch.manual_seed(0)
    model = build_method(config.method, config.encoder_sections(), layout=layout, channels=3,
                         persons=config.data.persons)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    x = torch.randn(4, 3, 12, layout.num_joints, config.data.persons)
    for epoch in range(3):
        out = as_method(model).training_step(Batch(x, torch.full((4,), 12)), epoch,
                                             torch.Generator().manual_seed(epoch))
        optimizer.zero_grad()
        out["loss"].backward()
        optimizer.step()
        assert torch.isfinite(out["loss"])
    assert out["mining"].item() == float(config.method.mining)
