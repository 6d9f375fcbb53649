"""Configs: strict keys, typed values and choices, overrides, several encoder sections, and the
shipped configs (valid, and listing every key of their schema)."""

import dataclasses
import typing
from dataclasses import dataclass
from pathlib import Path

import pytest
from torch import nn

from conftest import tiny_config
from skelssl.config import (
    DataConfig,
    EvalConfig,
    RunConfig,
    TrainConfig,
    dump_config,
    load_config,
    read_yaml,
)
from skelssl.engine.pipeline import is_pipeline, stage_configs
from skelssl.errors import ConfigError
from skelssl.eval.linear import LINEAR_PRESETS, STANDARDIZED
from skelssl.methods import METHODS, build_method
from skelssl.methods.skeletonclr import SkeletonCLRConfig
from skelssl.models import ENCODERS
from skelssl.models.stgcn import STGCNConfig
from skelssl.schema import field_choices
from skelssl.skeleton import load_layout
from skelssl.transforms.normalize import CENTER_MODES, VIEW_AXES
from skelssl.transforms.streams import STREAMS, Stream
from skelssl.transforms.temporal import FRAME_CAPS

CONFIG_ROOT = Path(__file__).resolve().parents[1] / "configs"
CONFIGS = sorted(CONFIG_ROOT.rglob("*.yaml"))


def test_sections_map_onto_their_dataclasses():
    config = load_config(tiny_config("data/x"))
    assert isinstance(config.method, SkeletonCLRConfig) and config.method.queue_size == 32
    assert isinstance(config.encoder, STGCNConfig) and config.encoder.hidden_channels == 4
    assert config.encoder_sections() == {"encoder": config.encoder}
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
    for fraction in (0.0, 1.5):
        with pytest.raises(ConfigError, match=r"train\.label_fraction: .*; expected a number > 0 "
                                              r"and ≤ 1"):
            load_config(tiny_config("data/x", train={"label_fraction": fraction}))
    with pytest.raises(ConfigError, match=r"train\.adam_betas = \[0\.9\]"):
        load_config(tiny_config("data/x", train={"adam_betas": [0.9]}))
    with pytest.raises(ConfigError, match="missing the 'encoder' section"):
        load_config({"method": {"name": "skeletonclr"}})


@pytest.mark.parametrize("section, key, value, allowed", [
    ("data", "center", "middle", "'none', 'frame', 'first'"),
    ("data", "view_axes", "knees", "'shoulders', 'hips'"),
    ("data", "frame_cap", "random", "'even', 'stride'"),
    ("train", "schedule", "cosin", "'step', 'cosine', 'constant'; did you mean 'cosine'"),
    ("train", "optimizer", "lamb", "'sgd', 'adam', 'adamw', 'lars'"),
    ("eval", "linear_preset", "crl",
     "'crossclr', 'crrl', 'isc', 'crossclr-std', 'crrl-std', 'isc-std'"),
    ("method", "stream", "bones", "'joint', 'motion', 'bone', 'velocity', 'bone_motion'"),
    ("encoder", "center_distance", "hops", "'graph', 'max_hop'"),
    ("encoder", "weight_init", "xavier", "'normal', 'kaiming'"),
])
def test_choice_fields_list_the_allowed_values(section, key, value, allowed):
    with pytest.raises(ConfigError, match=rf"config\.{section}\.{key}: '{value}' is not one of "
                                          rf"{allowed}"):
        load_config(tiny_config("data/x", **{section: {key: value}}))
    with pytest.raises(ConfigError, match=r"train\.nesterov: expected bool"):
        load_config(tiny_config("data/x", train={"nesterov": "yes"}))


def test_config_choices_are_the_choices_the_code_implements():
    assert field_choices(DataConfig, "center") == ("none", *CENTER_MODES)
    assert field_choices(DataConfig, "view_axes") == VIEW_AXES
    assert field_choices(DataConfig, "frame_cap") == FRAME_CAPS
    assert typing.get_args(Stream) == STREAMS
    presets = {name + suffix for name in LINEAR_PRESETS for suffix in ("", STANDARDIZED)}
    assert set(field_choices(EvalConfig, "linear_preset")) == presets


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
    assert "encoders" not in read_yaml(path)  # a one-encoder method writes `encoder:`
    assert load_config(path) == config


@dataclass
class TwoEncoderConfig:
    name: str = "two"


class TwoEncoders(nn.Module):
    """A method with two encoder sections, one of which needs per-frame outputs."""

    Config = TwoEncoderConfig
    encoder_slots = {"sequence": {"frames"}, "graph": set()}


@pytest.fixture
def two_encoders(monkeypatch):
    monkeypatch.setitem(METHODS, "two", TwoEncoders)
    values = tiny_config("data/x")
    del values["encoder"]
    values["method"] = {"name": "two"}
    values["encoders"] = {"sequence": {"name": "bigru", "hidden_size": 4},
                          "graph": {"name": "stgcn", "hidden_channels": 4}}
    return values


def test_a_method_with_several_encoders_reads_one_section_per_slot(two_encoders, tmp_path):
    config = load_config(two_encoders)
    assert config.encoder is None and config.encoders["sequence"].hidden_size == 4
    assert list(config.encoder_sections()) == ["sequence", "graph"]
    path = tmp_path / "c.yaml"
    path.write_text(dump_config(config))
    assert "encoder" not in read_yaml(path) and load_config(path) == config


def test_encoder_sections_must_match_the_method_slots(two_encoders):
    wrong = {**two_encoders, "encoders": {**two_encoders["encoders"], "grpah": {"name": "stgcn"}}}
    with pytest.raises(ConfigError, match=r"encoders\.grpah: method two has no encoder 'grpah'; "
                                          r"did you mean 'graph'"):
        load_config(wrong)
    missing = {**two_encoders, "encoders": {"graph": {"name": "stgcn"}}}
    with pytest.raises(ConfigError, match="missing the 'sequence' encoder section"):
        load_config(missing)
    single = {**two_encoders, "encoder": {"name": "stgcn"}}
    with pytest.raises(ConfigError, match="has several encoders; give them as encoders"):
        load_config(single)
    swapped = {**two_encoders, "encoders": {"sequence": {"name": "stgcn"},
                                            "graph": {"name": "bigru"}}}
    with pytest.raises(ConfigError, match=r"encoders\.sequence\.name: method two needs an "
                                          r"encoder providing frames; stgcn does not"):
        load_config(swapped)
    with pytest.raises(ConfigError, match="has one encoder; give it as the 'encoder' section"):
        load_config({**tiny_config("data/x"), "encoders": {}})


def configs_of(path: Path) -> list[RunConfig]:
    values = read_yaml(path)
    if is_pipeline(values):
        return [config for _, config in stage_configs(values, Path("runs/x"))]
    return [load_config(path)]


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_shipped_config_is_valid(path):
    layout = load_layout("ucla20" if "nw-ucla" in path.name else "ntu25")
    for config in configs_of(path):
        assert not Path(config.data.path).is_absolute()
        method = build_method(config.method, config.encoder_sections(), layout=layout,
                              channels=3, persons=config.data.persons)
        assert method.encoders()


def schema_keys(cls: type) -> set[str]:
    return {f.name for f in dataclasses.fields(cls)}


def missing_keys(values: dict, cls: type, where: str) -> list[str]:
    return [f"{where}.{key}" for key in sorted(schema_keys(cls) - set(values))]


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_shipped_config_lists_every_key_of_its_schema(path):
    values = read_yaml(path)
    parts = [(values, "")]
    if is_pipeline(values):
        parts = [({**values, **stage}, f"stages.{name}.")
                 for name, stage in values["stages"].items()]
    missing = []
    for part, prefix in parts:
        missing += missing_keys(part["method"], METHODS[part["method"]["name"]].Config,
                                f"{prefix}method")
        missing += missing_keys(part["train"], TrainConfig, f"{prefix}train")
    sections = values.get("encoders") or {"encoder": values["encoder"]}
    for slot, section in sections.items():
        where = slot if slot == "encoder" else f"encoders.{slot}"
        missing += missing_keys(section, ENCODERS[section["name"]].Config, where)
    missing += missing_keys(values["data"], DataConfig, "data")
    missing += missing_keys(values["eval"], EvalConfig, "eval")
    missing += [] if "seed" in values else ["seed"]
    assert not missing, f"{path.name} leaves out {missing}"


@pytest.mark.parametrize("suffix", ["", "-agcn"])
def test_actclr_on_nw_ucla_starts_from_the_aimclr_config_of_its_encoder(suffix):
    """Stage 1 of ActCLR is AimCLR exactly as its NW-UCLA config trains it, so that a finished
    AimCLR run can be shared as the pipeline's first stage and the two tables compare."""
    values = read_yaml(CONFIG_ROOT / "actclr" / f"nw-ucla{suffix}.yaml")
    stages = dict(stage_configs(values, Path("runs/x")))
    (aimclr,) = configs_of(CONFIG_ROOT / "aimclr" / f"nw-ucla{suffix}.yaml")
    stage = stages["aimclr"]
    for section in ("method", "encoder", "data", "seed", "train"):
        assert dataclasses.asdict(stage)[section] == dataclasses.asdict(aimclr)[section], section
