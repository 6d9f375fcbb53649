"""Bad command lines: each exits non-zero with one line naming the key, option or path."""

from __future__ import annotations

import sys

import pytest
import yaml

from conftest import tiny_config
from skelssl.cli import main


@pytest.fixture
def files(tmp_path, tiny_run):
    config = tmp_path / "c.yaml"
    config.write_text(yaml.safe_dump(tiny_config("data/x")))
    (tmp_path / "broken.yaml").write_text("train: [1, 2\n")
    (tmp_path / "a-file").write_text("")
    return {"config": str(config), "broken": str(tmp_path / "broken.yaml"),
            "file": str(tmp_path / "a-file"), "run": str(tiny_run), "tmp": str(tmp_path)}


BAD = [
    (["prepare", "ntu61", "--out", "{tmp}/x"], "unknown format 'ntu61'"),
    (["prepare", "nw-ucla", "--out", "{tmp}/x"], "needs --raw"),
    (["prepare", "nw-ucla", "--raw", "{tmp}/nowhere", "--out", "{tmp}/x"], "does not exist"),
    (["prepare", "custom", "--raw", "{file}", "--out", "{tmp}/x"], "a-file"),
    (["prepare", "synthetic", "--out", "{tmp}/x", "--workers", "0"], "--workers"),
    (["prepare", "synthetic", "--out", "{file}"], "a-file"),
    (["inspect", "{tmp}"], "not a prepared dataset"),
    (["inspect", "{tmp}/nowhere"], "not a prepared dataset"),
    (["pretrain"], "give a CONFIG file"),
    (["pretrain", "{tmp}/missing.yaml"], "missing.yaml not found"),
    (["pretrain", "{broken}"], "broken.yaml: not valid YAML"),
    (["pretrain", "{config}", "--set", "train.lrr=1"], "--set train.lrr: unknown key"),
    (["pretrain", "{config}", "--set", "train.lr"], "expected KEY.PATH=VALUE"),
    (["pretrain", "{config}", "--set", "train.lr=[1"], "not valid YAML"),
    (["pretrain", "{config}", "--set", "train.grad_clip=-1"], "train.grad_clip: -1.0"),
    (["pretrain", "{config}", "--set", "method.name=nope"], "unknown method 'nope'"),
    (["pretrain", "{config}", "--set", "encoder.name=bigru", "--set", "method.name=crrl"],
     "unknown key"),
    (["pretrain", "{config}", "--until-epoch", "-1"], "--until-epoch"),
    (["pretrain", "{config}", "--resume", "{run}"], "not both"),
    (["pretrain", "--resume", "{tmp}"], "holds no finished epoch"),
    (["pretrain", "{config}", "--out", "{file}"], "is a file"),
    (["pretrain", "{config}", "--out", "{run}"], "already holds a run"),
    (["pretrain", "{config}", "--quite"], "No such option: --quite"),
    (["eval", "linear", "{tmp}"], "not a run directory"),
    (["eval", "linear", "{run}", "--preset", "crl"], "unknown linear preset 'crl'"),
    (["eval", "linear", "{run}", "--stream", "bone"], "no encoder 'bone'"),
    (["eval", "linear", "{run}", "--weights", "untrained"], "weights 'untrained'"),
    (["eval", "linear", "{run}", "--report", "worst"], "expected final or best"),
    (["eval", "linear", "{run}", "--data", "{tmp}/nowhere"], "dataset"),
    (["eval", "knn", "{run}", "--k", "0"], "--k"),
    (["eval", "knn", "{run}", "--temperature", "0"], "--temperature"),
    (["eval", "semi", "{run}", "--fraction", "1.5"], "--fraction"),
    (["eval", "finetune", "{run}", "--preset", "crrl"], "unknown finetune preset 'crrl'"),
    (["eval", "finetune", "{run}", "--label-fraction", "0"], "--label-fraction"),
    (["eval", "ensemble", "{run}", "--weight", "joint"], "expected STREAM=NUMBER"),
    (["plot", "confusion", "{config}"], "c.yaml"),
    (["plot", "tsne", "{run}", "--split", "val"], "expected 'train' or 'test'"),
    (["config", "show", "{tmp}/missing.yaml"], "missing.yaml not found"),
    (["config", "show", "{config}", "--set", "data.center=middle"], "data.center: 'middle'"),
]


@pytest.mark.parametrize("argv, expected", BAD, ids=[" ".join(a) for a, _ in BAD])
def test_a_bad_command_line_is_one_line(argv, expected, files, monkeypatch, capsys):
    monkeypatch.setattr(sys, "argv", ["skelssl", *(a.format(**files) for a in argv)])
    with pytest.raises(SystemExit) as stopped:
        main()
    err = capsys.readouterr().err.strip()
    assert stopped.value.code not in (0, None)
    assert len(err.splitlines()) == 1 and err.startswith("error: "), err
    assert expected.format(**files) in err, err
