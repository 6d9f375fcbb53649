"""Evaluation of a real (tiny) run directory: cached vs live features, the frozen check."""

import json

import pytest
import torch

from conftest import tiny_config
from skelssl.config import load_config
from skelssl.engine.trainer import pretrain
from skelssl.eval.features import EncoderChangedError
from skelssl.eval.protocol import knn_eval, linear_probe, load_run, write_result


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory, prepared_synthetic):
    path = tmp_path_factory.mktemp("runs") / "tiny"
    pretrain(load_config(tiny_config(prepared_synthetic)), path, progress=False)
    return path


def test_trained_weights_are_loaded_and_random_ones_are_not(run_dir):
    trained, random = load_run(run_dir, "trained"), load_run(run_dir, "random")
    saved = torch.load(run_dir / "encoder.pt", weights_only=True)["encoders"]["joint"]
    for key, value in trained.encoders["joint"].state_dict().items():
        assert torch.equal(value, saved[key]), key
    assert trained.encoder_epoch == 2 and random.encoder_epoch is None
    weight = "encoder.blocks.0.gcn.conv.weight"
    assert not torch.equal(random.encoders["joint"].state_dict()[weight], saved[weight])
    # random weights get BN statistics from the training inputs, not the (0, 1) init
    assert random.encoders["joint"].encoder.data_bn.running_var.std() > 0
    assert not trained.encoders["joint"].training


def test_cached_and_recomputed_features_give_the_same_probe(run_dir, fast_preset):
    run = load_run(run_dir)
    cached = linear_probe(run, "joint", fast_preset, progress=False)
    live = linear_probe(run, "joint", fast_preset, cache=False, progress=False)
    assert cached["features"] == "cached" and live["features"].startswith("recomputed")
    assert cached["curve"] == pytest.approx(live["curve"], abs=1e-6)
    assert (run_dir / "features" / "trained-joint-xsub-train.pt").is_file()
    path = write_result(run, cached)
    stored = json.loads(path.read_text())
    assert stored["top1"] == cached["top1"] and stored["epoch"] == "final"
    assert stored["weights"] == "trained" and stored["preset"] == "fast"


def test_an_encoder_left_in_train_mode_is_caught(run_dir, fast_preset):
    run = load_run(run_dir)
    run.encoders["joint"].train()  # BN would now update its running statistics
    with pytest.raises(EncoderChangedError, match="encoder 'joint' changed during evaluation"):
        linear_probe(run, "joint", fast_preset, cache=False, progress=False)


def test_knn_results(run_dir):
    run = load_run(run_dir)
    result = knn_eval(run, "joint", 1, 0.1)
    assert 0.0 <= result["top1"] <= 100.0 and result["k"] == 1
    assert len(result["predictions"]) == len(run.split("test"))
    assert write_result(run, result).name == "knn-k1-trained-joint.json"
