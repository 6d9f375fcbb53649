"""The engine end to end on tiny synthetic data: resume, interruption, NaN stop, DDP."""

import os
import signal
import subprocess
import sys
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


@pytest.mark.slow
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


# Runs `skelssl` in a process that kills itself (SIGKILL: no clean-up of any kind) at a chosen
# point: deterministic, unlike a kill sent from outside at some moment.
KILLING = """
import os, signal, sys
import skelssl.engine.trainer as trainer
mode, at = sys.argv.pop(1), float(sys.argv.pop(1))
schedule, save = trainer.learning_rate, trainer.save_atomic

def learning_rate(config, epoch):  # called at every step with the fractional epoch
    if mode == "step" and epoch >= at:
        os.kill(os.getpid(), signal.SIGKILL)
    return schedule(config, epoch)

def save_atomic(state, path, **options):  # die halfway through writing epoch `at`'s
    if mode == "checkpoint" and path.name == "last.pt" and state["epoch"] == at:
        import io, tempfile, torch
        buffer = io.BytesIO()
        torch.save(state, buffer)
        handle, _ = tempfile.mkstemp(prefix=".last.pt.", dir=path.parent)
        os.write(handle, buffer.getvalue()[: len(buffer.getvalue()) // 2])
        os.kill(os.getpid(), signal.SIGKILL)
    save(state, path, **options)

trainer.learning_rate, trainer.save_atomic = learning_rate, save_atomic
from skelssl.cli import main
sys.argv[0] = "skelssl"
main()
"""


@pytest.mark.slow
@pytest.mark.parametrize("mode, at", [("step", 1.5), ("checkpoint", 2)])
def test_a_killed_run_resumes_from_its_last_checkpoint(tmp_path, prepared_synthetic, mode, at):
    config = write_config(tmp_path, prepared_synthetic, train={"epochs": 3, "batch_size": 2})
    skelssl("pretrain", config, "--out", tmp_path / "whole", "--quiet")
    killed = tmp_path / "killed"
    done = subprocess.run([sys.executable, "-c", KILLING, mode, str(at), "pretrain", str(config),
                           "--out", str(killed), "--quiet"], env=ENV, capture_output=True,
                          timeout=300)
    assert done.returncode == -signal.SIGKILL, done.stderr[-2000:]
    assert weights(killed)["epoch"] == 1  # killed in epoch 2, or while saving its checkpoint
    assert bool(list(killed.glob(".last.pt.*"))) == (mode == "checkpoint")
    skelssl("pretrain", "--resume", killed, "--quiet")
    assert_same_state(weights(tmp_path / "whole"), weights(killed))
    assert not list(killed.glob(".*.pt.*"))  # the half-written file is cleared on resume


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


@pytest.mark.slow
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


@pytest.mark.slow
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


@dataclass
class RecordingConfig:
    name: str = "recording"


class Recording(nn.Module):
    """A method that records the engine's hook calls and uses a group with an lr_scale."""

    Config = RecordingConfig
    encoder_slots = {"encoder": set()}
    calls: list = []

    def __init__(self):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(3))
        self.scaled = nn.Parameter(torch.ones(3))
        self.optimizer = None

    @classmethod
    def from_config(cls, config, *, layout, encoders):
        return cls()

    def param_groups(self):
        return [{"params": [self.weight]}, {"params": [self.scaled], "lr_scale": 0.1}]

    def on_train_start(self):
        self.calls.append(("start",))

    def on_epoch_start(self, epoch):
        self.calls.append(("epoch", epoch))

    def on_step_start(self, progress):
        self.calls.append(("step", progress.epoch, progress.step, progress.epoch_float,
                           round(progress.fraction, 6)))

    def training_step(self, batch, epoch, generator=None):
        self.calls.append(("train", epoch))
        return {"loss": ((self.weight + self.scaled) * batch.x.mean()).sum() ** 2}

    def encoders(self):
        return {}


def test_hooks_run_in_order_and_groups_get_their_scaled_lr(tmp_path, prepared_synthetic,
                                                           monkeypatch):
    monkeypatch.setitem(METHODS, "recording", Recording)
    monkeypatch.setattr(Recording, "calls", [])
    values = tiny_config(prepared_synthetic, train={"epochs": 2, "batch_size": 8,
                                                    "schedule": "constant", "lr": 0.5})
    values["method"] = {"name": "recording"}
    pretrain(load_config(values), tmp_path / "run", progress=False)
    steps = sum(1 for call in Recording.calls if call[0] == "train") // 2
    assert Recording.calls[:2] == [("start",), ("epoch", 0)]
    assert Recording.calls[2] == ("step", 0, 0, 0.0, 0.0)
    assert Recording.calls[3] == ("train", 0)  # each step's hook runs before the step
    assert Recording.calls[2 + 2 * steps] == ("epoch", 1)
    assert Recording.calls[3 + 2 * steps] == ("step", 1, 0, 1.0, 0.5)
    last = ("step", 1, steps - 1, 1 + (steps - 1) / steps, round((2 - 1 / steps) / 2, 6))
    assert Recording.calls[-2] == last
    groups = load_checkpoint(tmp_path / "run" / "last.pt")["optimizer"]["param_groups"]
    assert [group["lr"] for group in groups] == [0.5, pytest.approx(0.05)]
    pretrain(load_config(values), tmp_path / "run", resume=True, progress=False)
    assert Recording.calls.count(("start",)) == 1  # not again on resume


def test_sync_bn_converts_every_batchnorm_on_cuda_and_refuses_cpu_processes():
    from skelssl.engine.distributed import Context, sync_batchnorm
    from skelssl.models.stgcn import STGCN

    encoder = STGCN("ntu25", hidden_channels=4, feature_dim=8)
    keys = list(encoder.state_dict())
    assert sync_batchnorm(encoder, Context(), enabled=True) is encoder  # one process: as is
    with pytest.raises(ConfigError, match="train.sync_bn: true, but this run's 2 processes "
                                          "train on cpu"):
        sync_batchnorm(encoder, Context(0, 2, torch.device("cpu")), enabled=True)
    converted = sync_batchnorm(encoder, Context(0, 2, torch.device("cuda")), enabled=True)
    norms = [m for m in converted.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    assert norms and all(isinstance(m, nn.SyncBatchNorm) for m in norms)
    assert list(converted.state_dict()) == keys  # encoder.pt stays loadable without DDP
    plain = STGCN("ntu25", hidden_channels=4, feature_dim=8)
    assert sync_batchnorm(plain, Context(0, 2, torch.device("cuda")), enabled=False) is plain


def test_a_missing_teacher_run_or_encoder_is_named(tmp_path, prepared_synthetic):
    from skelssl.errors import RunError

    values = tiny_config(prepared_synthetic, train={"epochs": 1})
    values["method"] = {"name": "supervised", "num_classes": 16, "init": str(tmp_path / "none")}
    with pytest.raises(RunError, match=r"none/encoder\.pt: no encoder here; train that run"):
        pretrain(load_config(values), tmp_path / "a", progress=False)
    pretrain(load_config(tiny_config(prepared_synthetic, train={"epochs": 1})),
             tmp_path / "source", progress=False)
    values["method"].update(init=str(tmp_path / "source"), init_stream="bone")
    with pytest.raises(RunError, match=r"no encoder 'bone' \(has \['joint'\]\)"):
        pretrain(load_config(values), tmp_path / "b", progress=False)


def test_cpu_amp_trains_in_bf16_where_the_cpu_has_it_and_in_fp32_elsewhere(
        tmp_path, prepared_synthetic, monkeypatch, capsys):
    from skelssl.engine import trainer

    config = load_config(tiny_config(prepared_synthetic, train={"cpu_amp": True,
                                                                 "epochs": 1}))
    cpu = torch.device("cpu")
    monkeypatch.setattr(trainer, "cpu_has_bf16", lambda: True)
    assert trainer.amp_dtype(config, cpu) == torch.bfloat16
    seen = []
    original = torch.autocast.__init__

    def recording(self, device_type, dtype=None, enabled=True, **kwargs):
        seen.append((device_type, dtype, enabled))
        original(self, device_type, dtype=dtype, enabled=enabled, **kwargs)

    monkeypatch.setattr(torch.autocast, "__init__", recording)
    pretrain(config, tmp_path / "run", progress=False)
    assert ("cpu", torch.bfloat16, True) in seen
    monkeypatch.setattr(trainer, "cpu_has_bf16", lambda: False)
    assert trainer.amp_dtype(config, cpu) is None
    assert "no native bf16" in capsys.readouterr().err
    config.train.cpu_amp = False
    monkeypatch.setattr(trainer, "cpu_has_bf16", lambda: True)
    assert trainer.amp_dtype(config, cpu) is None
