"""Regressions for runs, configs and the command line: locks, a previous checkpoint to fall
back on, nothing poisoned by a failed start, values checked, loads trusted only after checks."""

from __future__ import annotations

import json
import os
import re
import stat

import numpy as np
import pytest
import torch
import yaml
from typer.testing import CliRunner

from conftest import tiny_config
from skelssl.cli import app
from skelssl.config import load_config
from skelssl.data.dataset import PreparedDataset
from skelssl.engine.checkpoint import finished_epochs, resume_state
from skelssl.engine.run_dir import RunLock
from skelssl.engine.trainer import pretrain, schedule_warnings
from skelssl.errors import ConfigError, DatasetError, RunError
from skelssl.eval.protocol import cached_features, load_run

runner = CliRunner()


def plain(output: str) -> str:
    """CLI output without the frame of a rich error box, on one line."""
    return " ".join(re.sub(r"[│╭╮╰╯─]", " ", output).split())


def test_a_second_training_process_cannot_take_a_locked_run(tmp_path, prepared_synthetic):
    config = load_config(tiny_config(prepared_synthetic, train={"epochs": 1}))
    held = pytest.raises(RunError, match=r"run is being trained by process \d+ on")
    with RunLock(tmp_path / "run"), held:  # as another process training there would hold it
        pretrain(config, tmp_path / "run", progress=False)
    pretrain(config, tmp_path / "run", progress=False)  # released: trains


@pytest.mark.slow
def test_a_damaged_last_checkpoint_falls_back_to_the_previous_epoch(tmp_path, prepared_synthetic,
                                                                     capsys):
    config = load_config(tiny_config(prepared_synthetic, train={"epochs": 2}))
    pretrain(config, tmp_path / "run", progress=False)
    assert finished_epochs(tmp_path / "run") == 2
    (tmp_path / "run" / "last.pt").write_bytes(b"damaged")
    state, source = resume_state(tmp_path / "run")
    assert state["epoch"] == 1 and source.name == "previous.pt"
    assert "resuming from previous.pt (one epoch earlier)" in capsys.readouterr().err
    config.train.epochs = 3
    history = pretrain(config, tmp_path / "run", resume=True, progress=False)
    assert [row["epoch"] for row in history] == [1, 2, 3]


def test_checkpoints_and_prepared_data_follow_the_umask(tmp_path, prepared_synthetic):
    old = os.umask(0o022)
    try:
        config = load_config(tiny_config(prepared_synthetic, train={"epochs": 1}))
        pretrain(config, tmp_path / "run", progress=False)
    finally:
        os.umask(old)
    mode = stat.S_IMODE((tmp_path / "run" / "last.pt").stat().st_mode)
    assert mode == 0o644
    assert stat.S_IMODE(prepared_synthetic.stat().st_mode) & 0o055  # not 0700


def test_a_failed_resume_leaves_the_config_as_it_was(tmp_path, prepared_synthetic):
    config = load_config(tiny_config(prepared_synthetic, train={"epochs": 1}))
    pretrain(config, tmp_path / "run", progress=False)
    before = (tmp_path / "run" / "config.yaml").read_text()
    config.train.epochs, config.train.batch_size = 2, 4096  # fails before its first epoch ends
    with pytest.raises(ConfigError, match="fewer than train.batch_size = 4096"):
        pretrain(config, tmp_path / "run", resume=True, progress=False)
    assert (tmp_path / "run" / "config.yaml").read_text() == before


def test_a_run_cannot_be_shortened_below_its_epochs(tmp_path, prepared_synthetic):
    config = load_config(tiny_config(prepared_synthetic, train={"epochs": 2}))
    pretrain(config, tmp_path / "run", progress=False)
    config.train.epochs = 1
    with pytest.raises(ConfigError, match="train.epochs = 1, but .* has trained 2 epochs"):
        pretrain(config, tmp_path / "run", resume=True, progress=False)


@pytest.mark.parametrize("key, value, expected", [
    ("train.grad_clip", -1, r"train\.grad_clip: -1\.0; expected a number > 0"),
    ("train.warmup_epochs", -3, r"train\.warmup_epochs: -3\.0; expected a number ≥ 0"),
    ("method.momentum", 2, r"method\.momentum: 2\.0; expected a number ≥ 0 and ≤ 1"),
    ("method.projection_dim", 0, r"method\.projection_dim: 0; expected a number ≥ 1"),
    ("method.queue_size", 0, r"method\.queue_size: 0; expected a number ≥ 1"),
    ("encoder.hidden_channels", 0, r"encoder\.hidden_channels: 0; expected a number ≥ 1"),
    ("eval.knn_k", [1, 0], r"eval\.knn_k\[1\]: 0; expected a number ≥ 1"),
    ("encoder.dropout", 1.0, r"encoder\.dropout: 1\.0; expected a number ≥ 0 and < 1"),
])
def test_out_of_range_values_are_named(key, value, expected):
    section, name = key.split(".")
    with pytest.raises(ConfigError, match=expected):
        load_config(tiny_config("data/x", **{section: {name: value}}))


def test_every_float_spelling_is_a_float(tmp_path):
    path = tmp_path / "c.yaml"
    values = tiny_config("data/x")
    path.write_text(yaml.safe_dump(values).replace("lr: 0.05", "lr: 5e-2"))
    assert load_config(path).train.lr == 0.05  # YAML 1.1 reads 5e-2 as a string
    assert load_config(path, ["train.lr=1e-3"]).train.lr == 0.001
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(path, ["train.milestones=[1, 2"])


def test_the_schedule_warns_of_milestones_it_never_reaches():
    train = load_config(tiny_config("data/x", train={"epochs": 5, "milestones": [4, 50]})).train
    assert schedule_warnings(train) == [
        "train.milestones [50] lie at or beyond the 5 epochs of the schedule: the learning "
        "rate never decays there (scale the milestones with train.epochs?)"]


def test_an_encoder_with_non_finite_weights_is_not_evaluated(tiny_run, tmp_path):
    import shutil

    run = tmp_path / "nan"
    shutil.copytree(tiny_run, run, ignore=shutil.ignore_patterns("features", "finetune"))
    state = torch.load(run / "encoder.pt", weights_only=True)
    weight = next(iter(state["encoders"]["joint"]["state"]))
    state["encoders"]["joint"]["state"][weight][...] = float("nan")
    torch.save(state, run / "encoder.pt")
    with pytest.raises(RunError, match="encoder 'joint' has non-finite weights"):
        load_run(run)


def test_a_damaged_feature_cache_is_rebuilt(tiny_run):
    run = load_run(tiny_run)
    features = cached_features(run, "joint", "test")
    cache = tiny_run / "features" / "trained-joint-xsub-test.pt"
    cache.write_bytes(b"\x00" * 10)
    torch.testing.assert_close(cached_features(run, "joint", "test"), features)
    assert torch.load(cache, weights_only=True)["features"].shape == features.shape


def damage(prepared, tmp_path, change):
    import shutil

    copy = tmp_path / "damaged"
    shutil.copytree(prepared, copy)
    change(copy)
    return copy


def test_a_damaged_prepared_dataset_is_named_on_open(prepared_synthetic, tmp_path):
    def label(copy):
        labels = np.load(copy / "labels.npy")
        labels[3] = 10_000_000
        np.save(copy / "labels.npy", labels)

    with pytest.raises(DatasetError, match="label 10000000 of sample 3 is outside 0..15"):
        PreparedDataset.open(damage(prepared_synthetic, tmp_path, label))


def test_non_finite_coordinates_are_named_by_verify_and_by_training(prepared_synthetic,
                                                                   tmp_path):
    def poison(copy):
        joints = np.load(copy / "joints.npy", mmap_mode="r+")
        joints[5:, 0, 0, 0, 0] = np.nan
        joints.flush()

    copy = damage(prepared_synthetic, tmp_path, poison)
    with pytest.raises(DatasetError, match="joints.npy: checksum differs from meta.json"):
        PreparedDataset.open(copy, verify=True)
    with pytest.raises(DatasetError, match=r"sample 5 \(.*\) holds non-finite coordinates"):
        PreparedDataset.open(copy).check_values()
    config = load_config(tiny_config(copy, train={"epochs": 1}))
    with pytest.raises(DatasetError, match="holds non-finite coordinates"):
        pretrain(config, tmp_path / "run", progress=False)


def test_config_show_prints_every_key(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(tiny_config("data/x")))
    result = runner.invoke(app, ["config", "show", str(path), "--set", "train.lr=2e-2"])
    assert result.exit_code == 0, result.output
    shown = yaml.safe_load(result.output)
    assert shown["train"]["lr"] == 0.02 and "decay_bias_and_norm" in shown["train"]


def test_pretrain_refuses_a_config_together_with_resume(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(tiny_config("data/x")))
    result = runner.invoke(app, ["pretrain", str(path), "--resume", str(tmp_path)])
    assert result.exit_code != 0 and "not both" in plain(result.output)


def test_a_directory_without_checkpoint_does_not_block_the_corrected_command(
        tmp_path, prepared_synthetic):
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(tiny_config(prepared_synthetic, train={"epochs": 1})))
    out = tmp_path / "run"
    out.mkdir()
    (out / ".lock").write_text("")  # what a start that failed at its first step leaves
    bad = runner.invoke(app, ["pretrain", str(path), "--out", str(out), "--set",
                              "train.lr_rate=3", "--quiet"])
    assert bad.exit_code != 0 and "--set train.lr_rate: unknown key" in str(bad.exception)
    good = runner.invoke(app, ["pretrain", str(path), "--out", str(out), "--quiet"])
    assert good.exit_code == 0, good.output
    again = runner.invoke(app, ["pretrain", str(path), "--out", str(out), "--quiet"])
    assert again.exit_code != 0 and "already holds a run" in plain(again.output)


def test_prepare_tells_what_it_skipped_and_noted(tmp_path):
    joints = np.random.default_rng(0).normal(size=(3, 6, 20, 3)).astype(np.float32)
    joints[1, 2, 4, 0] = np.inf
    np.savez(tmp_path / "mine.npz", joints=joints, labels=np.array([0, 1, 0]))
    result = runner.invoke(app, ["prepare", "custom", "--raw", str(tmp_path / "mine.npz"),
                                 "--out", str(tmp_path / "out"), "--skip-damaged"])
    assert result.exit_code == 0, result.output
    assert "skipped (damaged):" in result.output and "sample 1" in result.output
    assert "note: no layout given" in result.output and "2 sequences, 1 damaged" in result.output
    meta = json.loads((tmp_path / "out" / "meta.json").read_text())
    assert len(meta["skipped"]) == 1 and meta["notes"]
