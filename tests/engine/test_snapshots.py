"""Snapshots (train.snapshot_epochs): the encoders kept after chosen epochs, read by evaluation
as ``--weights epoch-N``."""

import pytest
import torch

from conftest import tiny_config
from skelssl.config import load_config
from skelssl.engine.run_dir import kept_snapshots, snapshot_file
from skelssl.engine.trainer import pretrain
from skelssl.errors import ConfigError, EvalError, RunError
from skelssl.eval.protocol import load_run


def joint_state(path):
    return torch.load(path, weights_only=True)["encoders"]["joint"]["state"]


def assert_equal_states(a, b):
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), key


@pytest.fixture(scope="module")
def snapshot_run(tmp_path_factory, prepared_synthetic):
    """Two epochs keeping snapshots 0, 1 and 2, interrupted after epoch 1 with snapshot 1 lost
    (as if killed between last.pt and the snapshot), then resumed."""
    config = load_config(tiny_config(prepared_synthetic, train={"snapshot_epochs": [0, 1, 2]}))
    run_dir = tmp_path_factory.mktemp("runs") / "snapshots"
    pretrain(config, run_dir, until_epoch=1, progress=False)
    kept_after_one = joint_state(snapshot_file(run_dir, 1))
    snapshot_file(run_dir, 1).unlink()
    pretrain(config, run_dir, resume=True, progress=False)
    return run_dir, kept_after_one


def test_the_chosen_epochs_are_kept_and_a_lost_one_is_written_on_resume(snapshot_run,
                                                                         prepared_synthetic,
                                                                         tmp_path):
    run_dir, kept_after_one = snapshot_run
    assert kept_snapshots(run_dir) == [0, 1, 2]
    assert [torch.load(snapshot_file(run_dir, e), weights_only=True)["epoch"]
            for e in (0, 1, 2)] == [0, 1, 2]
    assert_equal_states(joint_state(snapshot_file(run_dir, 1)), kept_after_one)
    assert_equal_states(joint_state(snapshot_file(run_dir, 2)), joint_state(run_dir / "encoder.pt"))
    untrained = tmp_path / "untrained"
    pretrain(load_config(tiny_config(prepared_synthetic, train={"epochs": 0})), untrained,
             progress=False)
    assert_equal_states(joint_state(snapshot_file(run_dir, 0)),
                        joint_state(untrained / "encoder.pt"))
    weight = "blocks.0.gcn.conv.weight"
    assert not torch.equal(joint_state(snapshot_file(run_dir, 0))[weight], kept_after_one[weight])


def test_evaluation_reads_a_snapshot_by_its_epoch(snapshot_run):
    run_dir, kept_after_one = snapshot_run
    run = load_run(run_dir, "epoch-1")
    assert run.encoder_epoch == 1 and run.weights == "epoch-1"
    assert_equal_states(run.encoders["joint"].encoder.state_dict(), kept_after_one)
    with pytest.raises(RunError, match=r"no snapshot after epoch 7; this run kept \[0, 1, 2\]"):
        load_run(run_dir, "epoch-7")
    for wrong in ("epoch-", "epoch-one", "best"):
        with pytest.raises(EvalError, match="expected trained, random or epoch-N"):
            load_run(run_dir, wrong)


def test_a_snapshot_beyond_the_schedule_is_refused(prepared_synthetic):
    with pytest.raises(ConfigError, match=r"train.snapshot_epochs = \[1, 3\]; expected epochs "
                                          r"from 0 to train.epochs \(2\)"):
        load_config(tiny_config(prepared_synthetic, train={"snapshot_epochs": [1, 3]}))
