from pathlib import Path

import pytest

from conftest import tiny_config
from skelssl.config import ConfigError, dump_config, load_config, read_yaml
from skelssl.engine.pipeline import is_pipeline, stage_configs
from skelssl.methods import build_method
from skelssl.methods.skeletonclr import SkeletonCLRConfig
from skelssl.models.stgcn import STGCNConfig
from skelssl.skeleton import load_layout

CONFIGS = sorted((Path(__file__).resolve().parents[1] / "configs").rglob("*.yaml"))


def test_sections_map_onto_their_dataclasses():
    config = load_config(tiny_config("data/x"))
    assert isinstance(config.method, SkeletonCLRConfig) and config.method.queue_size == 32
    assert isinstance(config.encoder, STGCNConfig) and config.encoder.hidden_channels == 4
    assert config.train.lr == 0.05 and config.train.milestones == [1]
    assert config.train.momentum == 0.9  # default kept


def test_unknown_key_names_the_closest_valid_one():
    values = tiny_config("data/x", train={"lrr": 0.1})
    with pytest.raises(ConfigError, match=r"config\.train\.lrr: unknown key; did you mean 'lr'"):
        load_config(values)
    with pytest.raises(ConfigError, match="did you mean 'queue_size'"):
        load_config(tiny_config("data/x", method={"queue_sise": 8}))
    with pytest.raises(ConfigError, match="unknown method 'skeletonclrr'.*'skeletonclr'"):
        load_config(tiny_config("data/x", method={"name": "skeletonclrr"}))


def test_wrong_types_and_values_are_rejected_with_the_key():
    with pytest.raises(ConfigError, match=r"train\.epochs: expected int, got 'ten'"):
        load_config(tiny_config("data/x", train={"epochs": "ten"}))
    with pytest.raises(ConfigError, match=r"train\.amp: expected bool"):
        load_config(tiny_config("data/x", train={"amp": 1}))
    with pytest.raises(ConfigError, match=r"data\.center = 'middle'"):
        load_config(tiny_config("data/x", data={"center": "middle"}))
    with pytest.raises(ConfigError, match=r"data\.view_axes = 'knees'; expected one of"):
        load_config(tiny_config("data/x", data={"view_axes": "knees"}))
    with pytest.raises(ConfigError, match=r"data\.frame_cap = 'random'; expected one of"):
        load_config(tiny_config("data/x", data={"frame_cap": "random"}))
    with pytest.raises(ConfigError, match=r"eval\.linear_preset: unknown linear preset 'crl'"):
        load_config(tiny_config("data/x", eval={"linear_preset": "crl"}))
    assert load_config(tiny_config("data/x", eval={"linear_preset": "crrl-std"}))
    for fraction in (0.0, 1.5):
        with pytest.raises(ConfigError, match=r"train\.label_fraction = .*; expected a fraction"):
            load_config(tiny_config("data/x", train={"label_fraction": fraction}))
    with pytest.raises(ConfigError, match="missing the 'encoder' section"):
        load_config({"method": {"name": "skeletonclr"}})


def test_overrides_set_nested_keys_as_yaml_values(tmp_path):
    path = tmp_path / "run.yaml"
    path.write_text(dump_config(load_config(tiny_config("data/x"))))
    config = load_config(path, ["train.lr=0.5", "train.milestones=[3, 4]", "seed=7",
                                "train.grad_clip=null", "method.stream=bone"])
    assert config.train.lr == 0.5 and config.train.milestones == [3, 4] and config.seed == 7
    assert config.train.grad_clip is None and config.method.stream == "bone"
    with pytest.raises(ConfigError, match="did you mean 'weight_decay'"):
        load_config(path, ["train.weight_decy=0"])
    with pytest.raises(ConfigError, match="expected KEY.PATH=VALUE"):
        load_config(path, ["train.lr"])


def test_a_dumped_config_loads_back_identically(tmp_path):
    config = load_config(tiny_config("data/x"))
    path = tmp_path / "c.yaml"
    path.write_text(dump_config(config))
    assert load_config(path) == config


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_shipped_config_is_valid(path):
    values = read_yaml(path)
    configs = ([config for _, config in stage_configs(values, Path("runs/x"))]
               if is_pipeline(values) else [load_config(path)])
    layout = load_layout("ucla20" if "nw-ucla" in path.name else "ntu25")
    for config in configs:
        assert not Path(config.data.path).is_absolute()
        method = build_method(config, layout)  # method-level checks (streams, mining, ...)
        assert method.encoders()
