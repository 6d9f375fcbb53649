"""encoder.pt: each encoder describes itself; files of earlier skelssl versions still evaluate."""

import shutil

import pytest
import torch
import yaml

from skelssl.data.dataset import PreparedDataset
from skelssl.engine.encoder_file import read_encoder_file
from skelssl.errors import RunError
from skelssl.eval.features import extract_features
from skelssl.eval.finetune import finetune_config
from skelssl.eval.protocol import load_run

# Keys a format-1 run's config.yaml did not have yet.
NEWER_TRAIN_KEYS = ("optimizer", "adam_betas", "lars_eta", "decay_bias_and_norm", "sync_bn")


def test_encoder_pt_describes_each_encoder(tiny_run):
    file = read_encoder_file(tiny_run)
    (name, description), = file.descriptions().items()
    assert name == "joint" and file.epoch == 1
    assert description["encoder"] == {"name": "stgcn", "hidden_channels": 4, "feature_dim": 16,
                                      "dropout": 0.5, "center_distance": "graph",
                                      "weight_init": "normal"}
    assert (description["stream"], description["in_channels"], description["persons"],
            description["feature_dim"]) == ("joint", 3, 2, 16)
    assert description["layout"]["name"] == "ntu25"
    assert "blocks.0.gcn.conv.weight" in file.states["joint"]  # no wrapper prefix


def make_legacy(run_dir, out):
    """The same run as an earlier skelssl wrote it: encoder.pt without format or descriptions,
    weights inside the stream wrapper, a config without the newer train keys."""
    shutil.copytree(run_dir, out, ignore=shutil.ignore_patterns("features", "results",
                                                                "finetune"))
    state = torch.load(out / "encoder.pt", weights_only=True)
    encoders = {name: {f"encoder.{k}": v for k, v in entry["state"].items()}
                for name, entry in state["encoders"].items()}
    for config in (state["config"], values := yaml.safe_load((out / "config.yaml").read_text())):
        for key in NEWER_TRAIN_KEYS:
            del config["train"][key]
    (out / "config.yaml").write_text(yaml.safe_dump(values))
    torch.save({"epoch": state["epoch"], "config": state["config"], "encoders": encoders},
               out / "encoder.pt")
    return out


def features(run):
    index = run.split(run.config.data.test_split)[:8]
    return extract_features(run.encoders["joint"], run.data, index, run.preprocess, run.device)


def test_a_run_of_an_earlier_version_evaluates_identically(tiny_run, tmp_path):
    legacy = make_legacy(tiny_run, tmp_path / "legacy")
    assert "format" not in torch.load(legacy / "encoder.pt", weights_only=True)
    old, new = load_run(legacy, device="cpu"), load_run(tiny_run, device="cpu")
    torch.testing.assert_close(features(old), features(new), rtol=0, atol=0)
    file = read_encoder_file(legacy)
    data = PreparedDataset.open(old.config.data.path)
    assert file.descriptions(data) == read_encoder_file(tiny_run).descriptions()
    with pytest.raises(RunError, match="written by an earlier skelssl; reading it needs the "
                                       "run's prepared dataset"):
        file.descriptions()
    config = finetune_config(legacy, "crossclr", "joint", "trained")
    assert config["encoder"]["name"] == "stgcn" and config["method"]["init"] == str(legacy)


def test_an_unknown_format_is_named(tiny_run, tmp_path):
    run = tmp_path / "future"
    shutil.copytree(tiny_run, run, ignore=shutil.ignore_patterns("features", "finetune"))
    state = torch.load(run / "encoder.pt", weights_only=True)
    torch.save({**state, "format": 9}, run / "encoder.pt")
    with pytest.raises(RunError, match="encoder file format 9; this skelssl reads formats 1 "
                                       "and 2"):
        load_run(run)
    (run / "encoder.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(RunError, match="not a readable skelssl checkpoint"):
        load_run(run)
