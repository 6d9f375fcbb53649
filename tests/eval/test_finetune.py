"""Finetuning a tiny pretrained run: the config it builds, exact initialisation from the
pretrained encoder, training on a labelled fraction, resume, and the test result."""

import pytest
import torch

from skelssl.config import load_config
from skelssl.data.dataset import PreparedDataset
from skelssl.errors import EvalError
from skelssl.eval.finetune import encoder_names, finetune, finetune_config


@pytest.fixture
def run_dir(tiny_run):
    return tiny_run


def encoder_weights(path):
    return torch.load(path / "encoder.pt", weights_only=True)["encoders"]["joint"]["state"]


def test_the_config_takes_data_encoder_and_seed_from_the_run(run_dir, prepared_synthetic):
    config = finetune_config(run_dir, "crossclr", "joint", "trained", label_fraction=0.5)
    assert config["method"] == {"name": "supervised", "num_classes": 16, "stream": "joint",
                                "init": str(run_dir), "init_stream": "joint", "augment": False}
    assert config["data"]["path"] == str(prepared_synthetic) and config["seed"] == 0
    assert config["encoder"]["hidden_channels"] == 4
    train = config["train"]
    assert (train["lr"], train["epochs"], train["milestones"], train["nesterov"]) == (
        0.1, 100, [80], True)
    labelled = PreparedDataset.open(prepared_synthetic).subset("xsub", "train", 0.5, 0)
    assert train["batch_size"] == min(64, len(labelled)) and train["label_fraction"] == 0.5
    assert finetune_config(run_dir, "crossclr", "joint", "random")["method"]["init"] is None
    with pytest.raises(EvalError, match="unknown finetune preset 'crrl'"):
        finetune_config(run_dir, "crrl", "joint", "trained")
    assert encoder_names(run_dir) == ["joint"]
    isc = finetune_config(run_dir, "isc", "joint", "trained", label_fraction=0.1)["train"]
    assert (isc["optimizer"], isc["lr"], isc["epochs"], isc["milestones"]) == (
        "adam", 1e-4, 50, [30, 40])
    load_config(finetune_config(run_dir, "isc", "joint", "trained"))  # a valid run config


def test_finetuning_starts_exactly_from_the_pretrained_encoder(run_dir):
    result = finetune(run_dir, epochs=0, progress=False)
    start = run_dir / "finetune" / "crossclr-trained-joint"
    pretrained, initial = encoder_weights(run_dir), encoder_weights(start)
    assert pretrained.keys() == initial.keys()
    assert all(torch.equal(pretrained[k], initial[k]) for k in pretrained)
    scratch = finetune(run_dir, weights="random", epochs=0, progress=False)
    random = encoder_weights(run_dir / "finetune" / "crossclr-random-joint")
    assert not all(torch.equal(pretrained[k], random[k]) for k in pretrained)
    assert result["weights"] == "trained" and scratch["weights"] == "random"


@pytest.mark.slow
def test_finetuning_on_a_fraction_trains_every_weight_and_resumes(run_dir):
    result = finetune(run_dir, label_fraction=0.5, draw=1, epochs=2, progress=False)
    out = run_dir / "finetune" / "crossclr-trained-joint-50pct-draw1"
    assert result["finetune_run"] == str(out) and len(result["train_loss"]) == 2
    data = PreparedDataset.open(load_config(run_dir / "config.yaml").data.path)
    assert result["train_samples"] == len(data.subset("xsub", "train", 0.5, 1))
    assert len(result["predictions"]) == len(data.indices("xsub", "test"))
    assert 0.0 <= result["top1"] <= 100.0 and result["protocol"] == "finetune"
    pretrained, tuned = encoder_weights(run_dir), encoder_weights(out)
    assert not any(torch.equal(pretrained[k], tuned[k]) for k in pretrained
                   if k.endswith("weight") and "bn" not in k)
    again = finetune(run_dir, label_fraction=0.5, draw=1, epochs=2, progress=False)
    assert again["predictions"] == result["predictions"]  # finished run: resumed, not retrained
    assert again["train_loss"] == result["train_loss"]


def test_unknown_streams_are_refused(run_dir):
    with pytest.raises(EvalError, match="no encoder 'bone'"):
        finetune(run_dir, stream="bone", epochs=0, progress=False)
