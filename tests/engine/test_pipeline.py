"""Multi-stage runs: every CRRL Table VIII variant from its shipped config, stage references,
skipping finished stages, exact resume inside a later stage, and refusing a different run."""

from pathlib import Path

import pytest
import torch

from skelssl.config import load_config, read_yaml
from skelssl.engine.checkpoint import load_checkpoint
from skelssl.engine.pipeline import is_pipeline, run_pipeline, stage_configs
from skelssl.engine.run_dir import final_stage_dir
from skelssl.engine.trainer import pretrain
from skelssl.errors import ConfigError
from skelssl.eval.protocol import knn_eval, load_run

CONFIGS = Path(__file__).resolve().parents[2] / "configs" / "crrl"
TABLE_VIII = {"Rand-Enc": "nw-ucla-rand-enc", "CML": "nw-ucla-cml", "SER": "nw-ucla-ser",
              "CML-SER-joint": "nw-ucla-cml-ser-joint",
              "CML-pretrain-SER": "nw-ucla-cml-pretrain-ser",
              "SER-pretrain-CML": "nw-ucla-ser-pretrain-cml",
              "SER-distill-CML": "nw-ucla-ser-distill-cml", "CRRL": "nw-ucla"}


def tiny(name: str, data_path, **train) -> dict:
    """A shipped config shrunk to seconds: small GRU, 1 epoch, the synthetic data."""
    values = read_yaml(CONFIGS / f"{name}.yaml")
    values["encoder"]["hidden_size"] = 4
    values["data"].update(path=str(data_path), benchmark="xsub", max_frames=12)
    for stage in (values["stages"].values() if is_pipeline(values) else [values]):
        stage["method"].update(queue_size=8, mlp_dim=8)
        epochs = min(stage["train"]["epochs"], 1)
        stage["train"].update({"epochs": epochs, "batch_size": 8, **train})
    return values


def train(values: dict, run_dir: Path) -> Path:
    if is_pipeline(values):
        run_pipeline(values, run_dir, progress=False)
    else:
        pretrain(load_config(values), run_dir, progress=False)
    return final_stage_dir(run_dir)


def encoder_weights(run_dir: Path) -> dict[str, torch.Tensor]:
    return load_checkpoint(run_dir / "encoder.pt")["encoders"]["joint"]["state"]


@pytest.mark.parametrize("variant", sorted(TABLE_VIII))
def test_every_table_viii_variant_trains_and_evaluates(variant, tmp_path, prepared_synthetic):
    final = train(tiny(TABLE_VIII[variant], prepared_synthetic), tmp_path / variant)
    assert load_checkpoint(final / "encoder.pt")["epoch"] == (0 if variant == "Rand-Enc" else 1)
    result = knn_eval(load_run(tmp_path / variant, device="cpu"), "joint", 1, 0.1)
    assert 0 <= result["top1"] <= 100 and result["method"] == "crrl"


@pytest.mark.slow
def test_init_and_teacher_come_from_the_earlier_stage(tmp_path, prepared_synthetic):
    frozen = {"lr": 0.0, "weight_decay": 0.0}  # stage 2 cannot move: it must equal its source
    train(tiny("nw-ucla-cml-pretrain-ser", prepared_synthetic, **frozen), tmp_path / "init")
    cml = encoder_weights(tmp_path / "init" / "cml")
    ser = encoder_weights(tmp_path / "init" / "ser")
    assert all(torch.equal(cml[k], ser[k]) for k in cml)
    train(tiny("nw-ucla", prepared_synthetic), tmp_path / "crrl")
    cml = encoder_weights(tmp_path / "crrl" / "cml")
    state = load_checkpoint(tmp_path / "crrl" / "ser" / "last.pt")["method"]
    assert all(torch.equal(cml[k], state[f"teacher.{k}"]) for k in cml)
    ser = encoder_weights(tmp_path / "crrl" / "ser")
    assert not all(torch.equal(cml[k], ser[k]) for k in cml)  # the student is not the teacher
    config = load_config(tmp_path / "crrl" / "ser" / "config.yaml")
    assert config.method.teacher == str(tmp_path / "crrl" / "cml")


@pytest.mark.slow
def test_a_later_stage_resumes_exactly_and_finished_stages_are_skipped(tmp_path,
                                                                      prepared_synthetic):
    whole = tiny("nw-ucla", prepared_synthetic)
    whole["stages"]["ser"]["train"]["epochs"] = 2
    train(whole, tmp_path / "whole")
    parts = tiny("nw-ucla", prepared_synthetic)
    train(parts, tmp_path / "parts")  # stops after one SER epoch
    cml_checkpoint = tmp_path / "parts" / "cml" / "last.pt"
    stamp = cml_checkpoint.stat().st_mtime_ns
    parts["stages"]["ser"]["train"]["epochs"] = 2
    train(parts, tmp_path / "parts")
    assert cml_checkpoint.stat().st_mtime_ns == stamp
    a = load_checkpoint(tmp_path / "whole" / "ser" / "last.pt")
    b = load_checkpoint(tmp_path / "parts" / "ser" / "last.pt")
    assert a["epoch"] == b["epoch"] == 2
    assert all(torch.equal(a["method"][k], b["method"][k]) for k in a["method"])


@pytest.mark.slow
def test_a_stage_linked_to_a_finished_run_is_shared_not_retrained(tmp_path, prepared_synthetic):
    values = tiny("nw-ucla-cml-pretrain-ser", prepared_synthetic, lr=0.0, weight_decay=0.0)
    train(values, tmp_path / "first")
    shared = tmp_path / "first" / "cml" / "last.pt"
    stamp = shared.stat().st_mtime_ns
    (tmp_path / "second").mkdir()
    (tmp_path / "second" / "cml").symlink_to(tmp_path / "first" / "cml")
    train(values, tmp_path / "second")
    assert shared.stat().st_mtime_ns == stamp
    cml = encoder_weights(tmp_path / "first" / "cml")
    ser = encoder_weights(tmp_path / "second" / "ser")
    assert all(torch.equal(cml[k], ser[k]) for k in cml)  # frozen stage 2 = its shared source


def test_a_stage_directory_holding_a_different_run_is_refused(tmp_path, prepared_synthetic):
    values = tiny("nw-ucla", prepared_synthetic)
    train(values, tmp_path / "run")
    values["stages"]["cml"]["method"]["temperature"] = 0.2
    with pytest.raises(ConfigError, match="holds a run with different method"):
        train(values, tmp_path / "run")


def test_a_stage_run_read_with_other_reader_processes_is_the_same_run(tmp_path,
                                                                      prepared_synthetic):
    values = tiny("nw-ucla", prepared_synthetic)
    train(values, tmp_path / "run")
    values["data"]["workers"] = 1  # a shared stage-1 run trained alone, stage 2 side by side
    train(values, tmp_path / "run")
    values["data"]["max_frames"] = 13
    with pytest.raises(ConfigError, match="holds a run with different data"):
        train(values, tmp_path / "run")


def test_pipeline_config_errors_name_the_key(tmp_path, prepared_synthetic):
    values = tiny("nw-ucla", prepared_synthetic)
    values["stages"] = {"ser": values["stages"]["ser"], "cml": values["stages"]["cml"]}
    with pytest.raises(ConfigError, match=r"stages\.ser\.method\.teacher: stage 'cml' must "
                                          "come before"):
        stage_configs(values, tmp_path)
    values = tiny("nw-ucla", prepared_synthetic)
    values["train"] = {"epochs": 3}
    with pytest.raises(ConfigError, match=r"config\.train: a pipeline sets 'train' inside"):
        stage_configs(values, tmp_path)
    values = tiny("nw-ucla", prepared_synthetic)
    values["stages"]["cml"]["eval"] = {}
    with pytest.raises(ConfigError, match=r"stages\.cml\.eval: unknown key"):
        stage_configs(values, tmp_path)
    with pytest.raises(ConfigError, match="multi-stage pipeline config"):
        load_config(CONFIGS / "nw-ucla.yaml")
