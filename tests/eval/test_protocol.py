"""Evaluation of a real (tiny) run directory: cached vs live features, the frozen check."""

import json

import pytest
import torch

from skelssl.data.dataset import label_fraction_indices
from skelssl.errors import EncoderChangedError, EvalError
from skelssl.eval.linear import get_preset, train_linear
from skelssl.eval.protocol import (
    cached_features,
    knn_eval,
    linear_probe,
    load_run,
    split_labels,
    write_result,
)
from skelssl.eval.semi import semi_supervised


@pytest.fixture
def run_dir(tiny_run):
    return tiny_run


def test_trained_weights_are_loaded_and_random_ones_are_not(run_dir):
    trained, random = load_run(run_dir, "trained"), load_run(run_dir, "random")
    saved = torch.load(run_dir / "encoder.pt", weights_only=True)["encoders"]["joint"]["state"]
    for key, value in trained.encoders["joint"].encoder.state_dict().items():
        assert torch.equal(value, saved[key]), key
    assert trained.encoder_epoch == 1 and random.encoder_epoch is None
    weight = "blocks.0.gcn.conv.weight"
    assert not torch.equal(random.encoders["joint"].encoder.state_dict()[weight], saved[weight])
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


def test_the_validation_split_never_touches_the_test_split(run_dir, fast_preset):
    run = load_run(run_dir, split="val")
    fit, val, _ = run.data.validation(run.config.data.benchmark)
    result = knn_eval(run, "joint", 1, 0.1)
    assert (result["train_split"], result["test_split"]) == ("train-val", "val")
    assert len(result["predictions"]) == len(val)
    assert write_result(run, result).name == "knn-k1-trained-joint-val.json"
    probe = linear_probe(run, "joint", fast_preset, progress=False)
    assert probe["train_samples"] == len(fit)
    assert write_result(run, probe).name == "linear-fast-trained-joint-val.json"
    with pytest.raises(EvalError, match="split 'dev': expected one of test, val"):
        load_run(run_dir, split="dev")


def test_a_labelled_fraction_trains_on_exactly_the_class_balanced_draw(run_dir, fast_preset):
    run = load_run(run_dir)
    result = linear_probe(run, "joint", fast_preset, progress=False, label_fraction=0.5, draw=1)
    labels = split_labels(run, "train")
    chosen = torch.from_numpy(label_fraction_indices(labels.numpy(), 0.5, seed=1))
    assert result["train_samples"] == len(chosen) < len(labels)
    assert result["label_fraction"] == 0.5 and result["label_draw"] == 1
    features = cached_features(run, "joint", "train")[chosen]
    test = cached_features(run, "joint", "test")
    by_hand = train_linear(lambda p: features[p], labels[chosen], lambda p: test[p],
                           split_labels(run, "test"), features.shape[1], run.data.num_classes,
                           get_preset(fast_preset))
    assert result["curve"] == pytest.approx(by_hand["curve"], abs=1e-6)
    other_draw = linear_probe(run, "joint", fast_preset, progress=False, label_fraction=0.5)
    assert other_draw["train_loss"] != result["train_loss"]


def test_semi_supervised_summarises_every_fraction_and_draw(run_dir, fast_preset):
    run = load_run(run_dir)
    result = semi_supervised(run, "joint", fast_preset, (0.25, 0.5), draws=2, progress=False)
    assert [row["label_fraction"] for row in result["fractions"]] == [0.25, 0.5]
    for row in result["fractions"]:
        values = [linear_probe(run, "joint", fast_preset, progress=False,
                               label_fraction=row["label_fraction"], draw=d)["top1"]
                  for d in (0, 1)]
        assert row["values"] == pytest.approx(values)
        assert row["mean"] == pytest.approx(sum(values) / 2)
        assert row["std"] == pytest.approx(abs(values[0] - values[1]) / 2 ** 0.5)
    assert write_result(run, result).name == "semi-fast-trained-joint.json"
    with pytest.raises(EvalError, match="draws must be at least 1"):
        semi_supervised(run, "joint", fast_preset, (0.5,), draws=0)
