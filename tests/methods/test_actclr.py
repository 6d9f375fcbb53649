"""ActCLR: the curriculum, MATS's weights, the released-code switches, the dataset anchor across
a reload, and stage 2 on an AimCLR run."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import torch

from conftest import ntu_batch, shrunk_encoder, tiny_config, tiny_queue_method
from skelssl.config import load_config, read_yaml
from skelssl.data.dataset import PreparedDataset
from skelssl.engine.actionlets import REGIONS, region_features, sample_actionlet, top_half
from skelssl.engine.assembly import build_run_method
from skelssl.engine.checkpoint import load_checkpoint
from skelssl.engine.encoder_file import load_run_weights, read_encoder_file
from skelssl.engine.pipeline import load_pipeline, stage_configs
from skelssl.engine.trainer import pretrain, start_fresh
from skelssl.errors import ConfigError, RunError
from skelssl.losses import similarity_mining_loss
from skelssl.methods import Batch, RunModule, as_method, build_method
from skelssl.methods.actclr import ActCLR, ActCLRConfig, active_augmentations
from skelssl.skeleton import load_layout

CONFIGS = sorted((Path(__file__).resolve().parents[2] / "configs" / "actclr").glob("*.yaml"))


def tiny_actclr(**options) -> ActCLR:
    return tiny_queue_method(ActCLR, **options)


def test_the_curriculum_lowers_the_active_augmentations():
    epochs = (0, 99, 100, 199, 200, 299, 300, 349)
    counts = [(active_augmentations(epoch, [100, 200, 300], 5),
               active_augmentations(epoch, [100, 200, 300], 7)) for epoch in epochs]
    assert counts == [(5, 7), (5, 7), (3, 5), (3, 5), (1, 3), (1, 3), (0, 0), (0, 0)]


def test_the_temporal_flip_joins_both_views_and_their_curriculum():
    lengths = torch.full((2,), 12)
    for probability, totals in ((0.0, [5, 7]), (0.5, [6, 8])):
        method = tiny_actclr(temporal_flip_probability=probability)
        assert [len(method.augmentations(strong, lengths, None))
                for strong in (False, True)] == totals
    method = tiny_actclr(temporal_flip_probability=1.0, flip_probability=0.0,
                         noise_probability=0.0, blur_probability=0.0, mask_probability=0.0,
                         rotation_degrees=0.0, rotation_other_degrees=0.0)
    x = ntu_batch().x
    medium = method.augmented(x, False, 0, torch.Generator().manual_seed(7))
    normal = method.normal(x, torch.Generator().manual_seed(7))
    torch.testing.assert_close(medium, normal.flip(2))  # only the flip had any effect
    out = method.training_step(ntu_batch(), 0, torch.Generator().manual_seed(0))
    assert out["augmentations"].item() == 14.0


def test_with_no_active_augmentation_a_view_is_the_normal_one():
    method = tiny_actclr(curriculum=[1, 2, 3])
    for strong in (False, True):
        late = method.augmented(ntu_batch().x, strong, 3, torch.Generator().manual_seed(7))
        normal = method.normal(ntu_batch().x, torch.Generator().manual_seed(7))
        torch.testing.assert_close(late, normal)
        early = method.augmented(ntu_batch().x, strong, 0, torch.Generator().manual_seed(7))
        assert not torch.allclose(early, normal)


def test_actionlet_weights_land_on_their_own_sample_person_frame_and_joint():
    method = tiny_actclr()
    like = torch.zeros(2, 3, 4, 25, 2)
    actionlet = torch.zeros(4, 4, 25)  # rows: (sample 0, person 0), (0, 1), (1, 0), (1, 1)
    actionlet[3, 2, 5] = 1.0  # sample 1, person 1, frame 2, joint 5
    weights = method.at_input(actionlet, like)
    assert weights.shape == (2, 1, 4, 25, 2)
    assert weights[1, 0, 2, 5, 1] == 1 and weights.sum() == 1


def test_the_released_singleton_cosine_gives_an_empty_actionlet():
    x = ntu_batch().x
    for cosine, empty in (("singleton", True), ("channel", False)):
        method = tiny_actclr(actionlet_cosine=cosine)
        actionlet = method.actionlets(x, x.mean(dim=0, keepdim=True))
        assert bool((actionlet == 0).all()) == empty


def test_the_anchor_is_normalised_with_the_batch_it_is_compared_with():
    """In training, BatchNorm over one sequence alone removes any affine change of its
    coordinates: an anchor encoded alone cannot tell the average motion from twice it plus one.
    Encoded in the views' pass, it can, and the views' rows are those of that same pass."""
    x = ntu_batch().x
    anchor = x.mean(dim=0, keepdim=True)
    rows = x.shape[0] * x.shape[4]
    for context, blind in (("alone", True), ("batch", False)):
        method = tiny_actclr(anchor_context=context).train()
        _, (plain, _) = method.key_pass(x, anchor)
        (views, _), (changed, _) = method.key_pass(x, 2 * anchor + 1)
        relative = float((plain - changed).abs().mean() / plain.abs().mean())
        assert (relative < 1e-3) == blind, (context, relative)  # measured: 3e-5 and 0.66
        assert plain.shape[0] == x.shape[4] and views.shape[0] == rows
        if context == "batch":
            together = method.key_maps(torch.cat([x, 2 * anchor + 1]))[0]
            torch.testing.assert_close(views, together[:rows])
            torch.testing.assert_close(changed, together[rows:])


def test_mining_with_the_released_options_by_hand():
    method = tiny_actclr(teacher_cutoff=0.95, teacher_topk=2, square_student=True)
    bank = torch.nn.functional.normalize(torch.randn(5, 8, generator=torch.Generator()
                                                     .manual_seed(0)), dim=1)
    q = bank[:1] * 0.5 + bank[1:2] * 0.5
    k = bank[:1]  # its similarity to bank[0] is 1: cut to −1
    teacher = (k @ bank.t()).masked_fill(k @ bank.t() > 0.95, -1.0)
    top, index = teacher.topk(2, dim=1)
    student = ((q @ bank.t()) ** 2).gather(1, index)
    torch.testing.assert_close(method.mining(q, k, bank),
                               similarity_mining_loss(student, top, 0.1, 0.04))


def test_the_mixed_key_weights_each_key_by_the_actionlet_the_mix_keeps():
    method = tiny_actclr()
    like = torch.zeros(2, 3, 4, 25, 1)
    k = torch.nn.functional.normalize(torch.tensor([[1.0, 0.0], [0.0, 1.0]]), dim=1)
    partner = torch.tensor([1, 0])
    actionlet = torch.zeros(2, 4, 25)
    nothing, everything = torch.zeros(2, 4, 25), torch.ones(2, 4, 25)
    torch.testing.assert_close(method.mixed_key(k, actionlet, partner, nothing, like), k)
    torch.testing.assert_close(method.mixed_key(k, actionlet, partner, everything, like),
                               k[partner])
    half = torch.zeros(2, 4, 25)
    half[:, :2] = 1  # the partner's first two frames pasted: with a flat actionlet, half each
    expected = torch.nn.functional.normalize(0.5 * k + 0.5 * k[partner], dim=1)
    torch.testing.assert_close(method.mixed_key(k, actionlet, partner, half, like), expected)


def test_one_key_encoder_pass_gives_the_keys_actionlet_and_the_key(monkeypatch):
    method = tiny_actclr(mixed_key=False)
    batches: list[int] = []
    encoder = method.encoder_k
    original = encoder.maps_and_mask

    def counted(x: torch.Tensor):
        batches.append(x.shape[0])
        return original(x)

    monkeypatch.setattr(encoder, "maps_and_mask", counted)
    method.training_step(ntu_batch(), 0, torch.Generator().manual_seed(0))
    # the key's view once (actionlet and key), the two query views' actionlets, each with the
    # anchor appended (one sequence)
    assert batches == [5, 5, 5]


def test_the_dataset_anchor_survives_a_reload():
    method = tiny_actclr(anchor="dataset")
    for epoch in range(2):
        method.on_epoch_start(epoch)
        method.training_step(ntu_batch(), epoch, torch.Generator().manual_seed(epoch))
    fresh = tiny_actclr(anchor="dataset")
    fresh.load_state_dict(method.state_dict())
    torch.testing.assert_close(fresh.dataset_motion, method.dataset_motion)
    assert fresh.dataset_motion.shape == (1, 3, 12, 25, 2)


@pytest.mark.slow
def test_every_switch_trains(prepared_synthetic):
    for options in ({"mats": False}, {"offline_pooling": "mix"}, {"offline_pooling": "global"},
                    {"online_pooling": "safp"}, {"actionlet_features": "dense"},
                    {"actionlet_smoothing": "parts", "actionlet_scaling": "binary"},
                    {"anchor": "dataset"}, {"mixed_key": True}):
        out = tiny_actclr(**options).training_step(ntu_batch(), 0, torch.Generator().manual_seed(0))
        assert torch.isfinite(out["loss"]), options
        out["loss"].backward()


@pytest.mark.slow
def test_stage_two_starts_both_encoders_from_the_aimclr_run(tmp_path, prepared_synthetic):
    aim = tiny_config(prepared_synthetic, train={"epochs": 1})
    aim["method"] = {"name": "aimclr", "queue_size": 32, "projection_dim": 8, "momentum": 0.9,
                     "mining_epoch": 0}
    aim["encoder"]["dropout"] = 0.0
    pretrain(load_config(aim), tmp_path / "aim", progress=False)
    act = tiny_config(prepared_synthetic, train={"epochs": 0})
    act["method"] = {"name": "actclr", "queue_size": 32, "projection_dim": 8,
                     "init": str(tmp_path / "aim")}
    act["encoder"]["dropout"] = 0.0
    pretrain(load_config(act), tmp_path / "act", progress=False)
    stage_one, stage_two = (read_encoder_file(tmp_path / name) for name in ("aim", "act"))
    a, b = stage_one.states["joint"], stage_two.states["joint"]
    assert all(torch.equal(a[key], b[key]) for key in a)
    act["train"]["epochs"] = 1
    history = pretrain(load_config(act), tmp_path / "act-1", progress=False)
    assert history[0]["augmentations"] == 12.0 and 0 < history[0]["actionlet_mean"] <= 1

    aim_head = {key.removeprefix("head_q."): value for key, value
                in load_checkpoint(tmp_path / "aim" / "last.pt")["method"].items()
                if key.startswith("head_q.")}
    for init_heads in (False, True):
        act["method"]["init_heads"] = init_heads
        method = as_method(build_run_method(load_config(act), PreparedDataset.open(
            prepared_synthetic)))
        start_fresh(method)
        for head in (method.head_q, method.head_k):
            same = [torch.equal(head.state_dict()[key], aim_head[key]) for key in aim_head]
            assert all(same) if init_heads else not any(same)
    with pytest.raises(RunError, match="last.pt: its method has no module 'head_x'"):
        load_run_weights(RunModule(str(tmp_path / "aim"), "head_x", method.head_q))
    with pytest.raises(RunError, match="last.pt: no checkpoint here"):
        load_run_weights(RunModule(str(tmp_path / "nowhere"), "head_q", method.head_q))


def test_heads_from_the_aimclr_run_need_the_run():
    with pytest.raises(ConfigError, match="method.init_heads"):
        ActCLRConfig(init_heads=True)


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.name)
def test_every_actclr_config_trains_a_few_steps(path):
    """Each config's stage 2 (encoder shrunk), on random sequences of the dataset's shape."""
    values = load_pipeline(path, [*shrunk_encoder(read_yaml(path)["encoder"]["name"]),
                                  "stages.actclr.method.queue_size=64"])
    name, config = stage_configs(values, Path("runs/x"))[-1]
    assert name == "actclr" and config.method.init == str(Path("runs/x/aimclr"))
    layout = load_layout("ucla20" if "nw-ucla" in path.name else "ntu25")
    torch.manual_seed(0)
    model = build_method(config.method, config.encoder_sections(), layout=layout, channels=3,
                         persons=config.data.persons)
    x = torch.randn(4, 3, 20, layout.num_joints, config.data.persons)
    for epoch in range(2):
        out = as_method(model).training_step(Batch(x, torch.full((4,), 20)), epoch,
                                             torch.Generator().manual_seed(epoch))
        out["loss"].backward()
        assert torch.isfinite(out["loss"])


@pytest.mark.slow
def test_the_actionlet_pictures_render(tmp_path, tiny_actclr_run):
    found = sample_actionlet(tiny_actclr_run, 3)
    assert found.joints.shape[1:3] == found.actionlet.shape == (12, 25)
    assert found.actionlet.min() >= 0 and found.actionlet.max() <= 1
    command = [sys.executable, "-m", "skelssl", "plot", "actionlet", str(tiny_actclr_run)]
    done = subprocess.run([*command, "--sample", "3", "--out", str(tmp_path / "pics")],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    for name in ("actionlet-test-3.png", "actionlet-test-3.gif", "average-motion.png"):
        assert (tmp_path / "pics" / name).stat().st_size > 5000, name
    refused = subprocess.run([*command, "--sample", "999"], capture_output=True, text=True,
                             timeout=300)
    assert refused.returncode != 0 and "--sample 999: the test split has" in refused.stderr


@pytest.mark.slow
def test_region_features_pool_the_maps_three_ways(tiny_actclr_run):
    regions = region_features(tiny_actclr_run, "test")
    features, labels = regions.features, regions.labels
    assert set(features) == set(REGIONS)
    assert all(f.shape == (len(labels), 16) for f in features.values())
    assert not torch.allclose(features["actionlet"], features["non-actionlet"])
    assert not torch.allclose(features["actionlet top half"], features["bottom half"])
    assert 0.0 < regions.actionlet_mean <= 1.0
    assert 0.5 <= regions.top_half_mass <= 1.0


def test_top_half_marks_the_larger_half_of_each_map():
    actionlet = torch.tensor([[[0.1, 0.9], [0.5, 0.3]],
                              [[0.7, 0.0], [0.2, 0.0]]])
    expected = torch.tensor([[[0.0, 1.0], [1.0, 0.0]],
                             [[1.0, 0.0], [1.0, 0.0]]])
    assert torch.equal(top_half(actionlet), expected)
    odd = top_half(torch.tensor([[[0.3, 0.1, 0.2]]]))
    assert torch.equal(odd, torch.tensor([[[1.0, 0.0, 1.0]]]))  # the larger half rounds up
