"""The engine end to end on tiny synthetic data: resume, interruption, NaN stop, DDP."""

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass

import pytest
import torch
from torch import nn

from conftest import tiny_config
from skelssl.config import dump_config, load_config
from skelssl.engine.checkpoint import load_checkpoint
from skelssl.engine.trainer import pretrain
from skelssl.errors import ConfigError, TrainingDiverged
from skelssl.methods import METHODS

ENV = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}


def write_config(tmp_path, data_path, **sections):
    path = tmp_path / "config.yaml"
    path.write_text(dump_config(load_config(tiny_config(data_path, **sections))))
    return path


def skelssl(*args, check=True):
    return subprocess.run([sys.executable, "-m", "skelssl", *map(str, args)], env=ENV,
                          capture_output=True, text=True, check=check, timeout=300)


def weights(run_dir):
    return load_checkpoint(run_dir / "last.pt")


def assert_same_state(a, b):
    assert a["epoch"] == b["epoch"]
    assert a["method"].keys() == b["method"].keys()
    for key in a["method"]:
        assert torch.equal(a["method"][key], b["method"][key]), key
    assert [r["loss"] for r in a["history"]] == [r["loss"] for r in b["history"]]


def test_resume_in_a_new_process_is_bit_identical(tmp_path, prepared_synthetic):
    config = write_config(tmp_path, prepared_synthetic)
    skelssl("pretrain", config, "--out", tmp_path / "whole", "--quiet")
    skelssl("pretrain", config, "--out", tmp_path / "parts", "--until-epoch", "1", "--quiet")
    assert weights(tmp_path / "parts")["epoch"] == 1
    skelssl("pretrain", "--resume", tmp_path / "parts", "--quiet")
    assert_same_state(weights(tmp_path / "whole"), weights(tmp_path / "parts"))
    assert (tmp_path / "parts" / "metrics.csv").read_text().count("\n") == 3  # header + 2
    with pytest.raises(subprocess.CalledProcessError) as refused:
        skelssl("pretrain", config, "--out", tmp_path / "parts")
    assert "already holds a run" in refused.value.stderr


def test_a_run_killed_mid_epoch_resumes_from_its_last_checkpoint(tmp_path, prepared_synthetic):
    config = write_config(tmp_path, prepared_synthetic, train={"epochs": 3, "batch_size": 2})
    skelssl("pretrain", config, "--out", tmp_path / "whole", "--quiet")
    killed = tmp_path / "killed"
    process = subprocess.Popen([sys.executable, "-m", "skelssl", "pretrain", str(config),
                                "--out", str(killed), "--quiet"], env=ENV,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 240
    while not (killed / "metrics.csv").is_file() and time.time() < deadline:
        time.sleep(0.005)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert weights(killed)["epoch"] == 1  # killed during epoch 2
    skelssl("pretrain", "--resume", killed, "--quiet")
    assert_same_state(weights(tmp_path / "whole"), weights(killed))


@dataclass
class ExplodingConfig:
    name: str = "exploding"
    explode_at: int = 1


class Exploding(nn.Module):
    """A method whose loss turns NaN in a chosen epoch."""

    Config = ExplodingConfig
    encoder_slots = {"encoder": set()}

    def __init__(self, explode_at):
        super().__init__()
        self.explode_at = explode_at
        self.weight = nn.Parameter(torch.ones(3))

    @classmethod
    def from_config(cls, config, *, layout, encoders):
        return cls(config.explode_at)

    def training_step(self, batch, epoch, generator=None):
        loss = (self.weight * batch.x.mean()).sum() ** 2
        return {"loss": loss * float("nan") if epoch >= self.explode_at else loss}

    def encoders(self):
        return {}


def test_nan_loss_stops_and_keeps_the_last_good_checkpoint(tmp_path, prepared_synthetic,
                                                           monkeypatch):
    monkeypatch.setitem(METHODS, "exploding", Exploding)
    values = tiny_config(prepared_synthetic, train={"epochs": 3})
    values["method"] = {"name": "exploding"}
    config = load_config(values)
    with pytest.raises(TrainingDiverged, match=r"loss became nan at epoch 2, step 1.*epoch 1"):
        pretrain(config, tmp_path / "run", progress=False)
    state = weights(tmp_path / "run")
    assert state["epoch"] == 1 and torch.isfinite(state["method"]["weight"]).all()


def test_two_process_ddp_gathers_keys_from_both(tmp_path, prepared_synthetic):
    config = write_config(tmp_path, prepared_synthetic, train={"epochs": 1, "batch_size": 8})
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone",
               "--nproc_per_node", "2", "-m", "skelssl", "pretrain", str(config), "--out",
               str(tmp_path / "ddp"), "--quiet"]
    done = subprocess.run(command, env=ENV, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    state = weights(tmp_path / "ddp")
    data_train = load_config(config)
    from skelssl.data.dataset import PreparedDataset

    steps = len(PreparedDataset.open(data_train.data.path).indices("xsub", "train")) // 8
    # each step enqueues the 4 keys of each process: 8 per step in a queue of 32
    assert int(state["method"]["queue.pointer"]) == steps * 8 % 32
    assert state["history"][0]["samples_per_s"] > 0


def test_overrides_given_on_resume_are_recorded_in_the_config(tmp_path, prepared_synthetic):
    config = load_config(tiny_config(prepared_synthetic, train={"epochs": 1}))
    pretrain(config, tmp_path / "run", progress=False)
    config.train.epochs = 2
    pretrain(config, tmp_path / "run", resume=True, progress=False)
    assert load_config(tmp_path / "run" / "config.yaml").train.epochs == 2
    assert weights(tmp_path / "run")["epoch"] == 2


def test_a_labelled_fraction_smaller_than_a_batch_is_refused(tmp_path, prepared_synthetic):
    config = load_config(tiny_config(prepared_synthetic,
                                     train={"label_fraction": 0.1, "batch_size": 32}))
    with pytest.raises(ConfigError, match="16 training samples, fewer than train.batch_size = 32"):
        pretrain(config, tmp_path / "run", progress=False)
