"""Run configuration: YAML files mapped onto dataclasses, strict keys, ``--set a.b=v`` overrides.

A config has fixed sections (``data``, ``train``, ``eval``) and two sections whose schema is
chosen by their ``name`` key: ``method`` (see ``skelssl.methods.METHODS``) and ``encoder``
(see ``skelssl.models.ENCODERS``). Unknown keys are errors naming the closest valid key.
"""

from __future__ import annotations

import copy
import dataclasses
import difflib
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from skelssl.eval.linear import get_preset
from skelssl.transforms.normalize import VIEW_AXES
from skelssl.transforms.temporal import FRAME_CAPS


class ConfigError(ValueError):
    """A config file or override does not match the schema."""


@dataclass
class DataConfig:
    """Which prepared dataset to read and how each batch is preprocessed on the device."""

    path: str = "data/synthetic"
    benchmark: str | None = None
    train_split: str = "train"
    test_split: str = "test"
    persons: int = 2
    center: str = "frame"  # none | frame (centre joint per frame) | first (centre joint, frame 0)
    align_view: bool = False  # rotate into the body frame of the first frame
    view_axes: str = "shoulders"  # shoulders (x) + spine | spine (y) + hips (Predict & Cluster)
    minmax: bool = False  # scale each sample/person/coordinate to [−1, 1]
    max_frames: int = 0  # subsample longer sequences to this many frames (CRRL); 0 = no cap
    frame_cap: str = "even"  # even (spread over the sequence) | stride (every ⌊L/max⌋-th, P&C)
    frames: int = 50  # resize the valid frames to this many; 0 keeps them as stored
    workers: int | None = None  # reader processes; null = none on CPU, up to 4 beside a GPU


@dataclass
class TrainConfig:
    """Optimisation: SGD with a step or cosine schedule and an optional linear warm-up."""

    epochs: int = 300
    batch_size: int = 128  # global: split across DDP processes
    lr: float = 0.1
    momentum: float = 0.9
    weight_decay: float = 1e-4
    nesterov: bool = False
    schedule: str = "step"  # step | cosine | constant
    milestones: list[int] = field(default_factory=lambda: [250])
    gamma: float = 0.1
    warmup_epochs: float = 0.0
    grad_clip: float | None = None  # max global gradient norm
    amp: bool = True  # mixed precision on CUDA (bf16 when supported, else fp16); off on CPU
    device: str = "auto"  # auto | cpu | cuda | cuda:1 ...
    label_fraction: float = 1.0  # train on a class-balanced fraction of the training split
    label_draw: int = 0  # which draw of that fraction (its seed)


@dataclass
class EvalConfig:
    """Evaluation defaults for ``skelssl eval`` on this run."""

    linear_preset: str = "crossclr"  # crossclr | crrl (METHODS §7), + "-std": standardised
    knn_k: list[int] = field(default_factory=lambda: [1, 20])
    knn_temperature: float = 0.1
    batch_size: int = 256


@dataclass
class RunConfig:
    """One pretraining run."""

    method: Any = None  # a method's config dataclass, chosen by method.name
    encoder: Any = None  # an encoder's config dataclass, chosen by encoder.name
    data: DataConfig = field(default_factory=DataConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    eval: EvalConfig = field(default_factory=EvalConfig)
    seed: int = 0


def _method_schemas() -> dict[str, type]:
    from skelssl.methods import METHODS

    return {name: cls.Config for name, cls in METHODS.items()}


def _encoder_schemas() -> dict[str, type]:
    from skelssl.models import ENCODERS

    return {name: cls.Config for name, cls in ENCODERS.items()}


NAMED_SECTIONS = {"method": _method_schemas, "encoder": _encoder_schemas}


def _closest(key: str, valid: list[str]) -> str:
    match = difflib.get_close_matches(key, valid, n=1, cutoff=0.0)
    return f"; did you mean {match[0]!r}?" if match else ""


def _convert(value: Any, kind: Any, where: str) -> Any:
    origin = typing.get_origin(kind)
    if origin in (typing.Union, types.UnionType):
        options = typing.get_args(kind)
        if value is None and type(None) in options:
            return None
        kind = next(option for option in options if option is not type(None))
        origin = typing.get_origin(kind)
    if dataclasses.is_dataclass(kind):
        return from_dict(kind, value, where)
    if origin is list:
        if not isinstance(value, list):
            raise ConfigError(f"{where}: expected a list, got {value!r}")
        (item,) = typing.get_args(kind)
        return [_convert(v, item, f"{where}[{i}]") for i, v in enumerate(value)]
    if kind is Any:
        return value
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise ConfigError(f"{where}: expected {kind.__name__}, got {value!r}")
    return value


def from_dict(cls: type, values: Any, where: str = "config") -> Any:
    """Build dataclass ``cls`` from a mapping, rejecting unknown keys and wrong types."""
    if values is None:
        values = {}
    if not isinstance(values, dict):
        raise ConfigError(f"{where}: expected a mapping of keys, got {values!r}")
    hints = typing.get_type_hints(cls)
    names = [f.name for f in dataclasses.fields(cls)]
    for key in values:
        if key not in names:
            raise ConfigError(f"{where}.{key}: unknown key{_closest(str(key), names)} "
                              f"(valid: {', '.join(names)})")
    kwargs = {}
    for name in names:
        if name not in values:
            continue
        if name in NAMED_SECTIONS and cls is RunConfig:
            kwargs[name] = _named_section(name, values[name], f"{where}.{name}")
        else:
            kwargs[name] = _convert(values[name], hints[name], f"{where}.{name}")
    return cls(**kwargs)


def _named_section(section: str, values: Any, where: str) -> Any:
    schemas = NAMED_SECTIONS[section]()
    if not isinstance(values, dict) or "name" not in values:
        raise ConfigError(f"{where}: needs a 'name' (one of {sorted(schemas)})")
    name = values["name"]
    if name not in schemas:
        hint = _closest(str(name), list(schemas))
        raise ConfigError(f"{where}.name: unknown {section} {name!r}{hint} "
                          f"(valid: {', '.join(sorted(schemas))})")
    return from_dict(schemas[name], values, where)


def parse_override(text: str) -> tuple[list[str], Any]:
    """``"train.lr=0.05"`` → (["train", "lr"], 0.05); the value is read as YAML."""
    if "=" not in text:
        raise ConfigError(f"override {text!r}: expected KEY.PATH=VALUE, e.g. train.lr=0.05")
    key, raw = text.split("=", 1)
    path = [part for part in key.strip().split(".") if part]
    if not path:
        raise ConfigError(f"override {text!r}: empty key")
    return path, yaml.safe_load(raw) if raw.strip() else ""


def apply_overrides(values: dict, overrides: list[str]) -> dict:
    """Set each ``a.b=v`` in a nested mapping (sections are created as needed)."""
    for text in overrides:
        path, value = parse_override(text)
        node = values
        for part in path[:-1]:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                raise ConfigError(f"override {text!r}: {part!r} is not a section")
            node = child
        node[path[-1]] = value
    return values


def read_yaml(path: str | Path) -> dict:
    """A YAML mapping from a file, with errors naming the file."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"config file {path} not found")
    try:
        values = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as error:
        raise ConfigError(f"{path}: not valid YAML ({error})") from error
    if not isinstance(values, dict):
        raise ConfigError(f"{path}: expected a mapping at the top level")
    return values


def load_config(source: str | Path | dict, overrides: list[str] | None = None,
                where: str | None = None) -> RunConfig:
    """Read a YAML file (or a mapping), apply overrides and validate against the schema.

    ``where`` names the source in error messages (default: the file, or ``config``).
    """
    from_file = not isinstance(source, dict)
    values = read_yaml(source) if from_file else copy.deepcopy(source)
    where = where or (str(source) if from_file else "config")
    if "stages" in values:
        raise ConfigError(f"{where}: a multi-stage pipeline config; run it with "
                          "`skelssl pretrain`, evaluate its run directory")
    values = apply_overrides(values, overrides or [])
    for section in NAMED_SECTIONS:
        if section not in values:
            raise ConfigError(f"{where}: missing the '{section}' section")
    config = from_dict(RunConfig, values, where)
    check_config(config, where)
    return config


def check_config(config: RunConfig, where: str = "config") -> None:
    """Value checks that the types alone do not express."""
    choices = {"data.center": (config.data.center, ("none", "frame", "first")),
               "data.view_axes": (config.data.view_axes, VIEW_AXES),
               "data.frame_cap": (config.data.frame_cap, FRAME_CAPS),
               "train.schedule": (config.train.schedule, ("step", "cosine", "constant"))}
    for key, (value, valid) in choices.items():
        if value not in valid:
            raise ConfigError(f"{where}: {key} = {value!r}; expected one of {valid}")
    positive = {"train.batch_size": config.train.batch_size,
                "data.persons": config.data.persons}
    for key, value in positive.items():
        if value < 1:
            raise ConfigError(f"{where}: {key} = {value}; expected at least 1")
    for key in ("frames", "max_frames"):
        if getattr(config.data, key) < 0:
            raise ConfigError(f"{where}: data.{key} = {getattr(config.data, key)}; expected ≥ 0")
    try:
        get_preset(config.eval.linear_preset)
    except ValueError as error:
        raise ConfigError(f"{where}: eval.linear_preset: {error}") from None
    if not 0.0 < config.train.label_fraction <= 1.0:
        raise ConfigError(f"{where}: train.label_fraction = {config.train.label_fraction}; "
                          "expected a fraction in (0, 1]")
    if config.train.epochs < 0:
        raise ConfigError(f"{where}: train.epochs = {config.train.epochs}; expected ≥ 0 "
                          "(0 saves the encoder at its initialisation)")


def to_dict(config: RunConfig) -> dict:
    """Plain mapping of a config (what is written as the run's resolved config.yaml)."""
    return dataclasses.asdict(config)


def dump_config(config: RunConfig) -> str:
    return yaml.safe_dump(to_dict(config), sort_keys=False)
