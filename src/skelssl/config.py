"""Run configuration: YAML files mapped onto dataclasses, strict keys, ``--set a.b=v`` overrides.

A config has fixed sections (``data``, ``train``, ``eval``, ``seed``), a ``method`` section
whose schema its ``name`` chooses (see ``skelssl.methods.METHODS``) and the method's encoder
sections, each chosen by its own ``name`` (see ``skelssl.models.ENCODERS``): one ``encoder``
section for a method with one encoder slot, or ``encoders: {slot: section, ...}`` for a
method with several (ISC's sequence, graph and image encoders). Unknown keys and values
outside a field's choices are errors naming the key and what was expected.
"""

from __future__ import annotations

import copy
import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml

from skelssl.errors import ConfigError
from skelssl.schema import (
    AtLeastOne,
    Fraction,
    NonNegative,
    NonNegativeInt,
    Positive,
    Range,
    closest,
    from_dict,
    named_section,
)

# The linear presets of skelssl.eval.linear (a test keeps the two lists equal).
LinearPresetName = Literal["crossclr", "crrl", "isc", "crossclr-std", "crrl-std", "isc-std"]


@dataclass
class DataConfig:
    """Which prepared dataset to read and how each batch is preprocessed on the device."""

    path: str = "data/synthetic"
    benchmark: str | None = None
    train_split: str = "train"
    test_split: str = "test"
    persons: AtLeastOne = 2
    # none | frame (centre joint per frame) | first (centre joint of the first frame)
    center: Literal["none", "frame", "first"] = "frame"
    align_view: bool = False  # rotate into the body frame of the first frame
    # shoulders (x) + spine | spine (y) + hips (Predict & Cluster)
    view_axes: Literal["shoulders", "hips"] = "shoulders"
    minmax: bool = False  # scale each sample/person/coordinate to [−1, 1]
    max_frames: NonNegativeInt = 0  # keep at most this many frames (CRRL); 0 = no cap
    # even (spread over the sequence) | stride (every ⌊L/max⌋-th, Predict & Cluster)
    frame_cap: Literal["even", "stride"] = "even"
    frames: NonNegativeInt = 50  # resize the valid frames to this many; 0 keeps them as stored
    workers: NonNegativeInt | None = None  # reader processes; null: none on CPU, ≤ 4 with a GPU

    def preprocessing(self) -> dict[str, Any]:
        """The keyword arguments of ``skelssl.transforms.preprocess.Preprocess``."""
        keys = ("persons", "center", "align_view", "view_axes", "minmax", "max_frames",
                "frame_cap", "frames")
        return {key: getattr(self, key) for key in keys}


@dataclass
class TrainConfig:
    """Optimisation: the optimiser, a step or cosine schedule with an optional linear warm-up,
    mixed precision, the device and synchronised BatchNorm under DDP."""

    epochs: NonNegativeInt = 300
    batch_size: AtLeastOne = 128  # global: split across DDP processes
    optimizer: Literal["sgd", "adam", "adamw", "lars"] = "sgd"
    lr: NonNegative = 0.1
    momentum: Fraction = 0.9  # sgd and lars
    weight_decay: NonNegative = 1e-4
    nesterov: bool = False  # sgd and lars
    adam_betas: list[float] = field(default_factory=lambda: [0.9, 0.999])  # adam and adamw
    lars_eta: Positive = 0.001  # lars trust coefficient (SimCLR)
    # false: no weight decay on biases and normalisation weights (lars never adapts them)
    decay_bias_and_norm: bool = True
    schedule: Literal["step", "cosine", "constant"] = "step"
    milestones: list[int] = field(default_factory=lambda: [250])
    gamma: Positive = 0.1
    warmup_epochs: NonNegative = 0.0
    grad_clip: Positive | None = None  # max global gradient norm
    # warn when a logged embedding spread (the collapse monitor) falls below this; null: never
    collapse_warning: NonNegative | None = 0.05
    amp: bool = True  # mixed precision on CUDA (bf16 when supported, else fp16); off on CPU
    # bf16 autocast on a CPU with native bf16 (AMX / AVX512-BF16; elsewhere fp32 and a warning)
    cpu_amp: bool = False
    device: str = "auto"  # auto | cpu | cuda | cuda:1 ...
    sync_bn: bool = False  # synchronised BatchNorm across DDP processes (CUDA only)
    # train on a class-balanced fraction of the training split
    label_fraction: Annotated[float, Range(0, 1, open_minimum=True)] = 1.0
    label_draw: NonNegativeInt = 0  # which draw of that fraction (its seed)
    # keep the encoders after these epochs (0: the initialisation) in snapshots/, to evaluate
    # along training: skelssl eval linear RUN --weights epoch-20
    snapshot_epochs: list[NonNegativeInt] = field(default_factory=list)


@dataclass
class EvalConfig:
    """Evaluation defaults for ``skelssl eval`` on this run."""

    linear_preset: LinearPresetName = "crossclr"  # see docs/training.md; "-std": standardised
    knn_k: list[AtLeastOne] = field(default_factory=lambda: [1, 20])
    knn_temperature: Positive = 0.1
    batch_size: AtLeastOne = 256


@dataclass
class RunConfig:
    """One pretraining run."""

    method: Any = None  # a method's config dataclass, chosen by method.name
    encoder: Any = None  # the encoder section of a one-slot method, chosen by encoder.name
    encoders: dict[str, Any] = field(default_factory=dict)  # slot → section (several slots)
    data: DataConfig = field(default_factory=DataConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    eval: EvalConfig = field(default_factory=EvalConfig)
    seed: int = 0

    def encoder_sections(self) -> dict[str, Any]:
        """Slot → encoder config section, whichever way the config gave them."""
        return {"encoder": self.encoder} if self.encoder is not None else dict(self.encoders)


SINGLE_SLOT = "encoder"


def method_classes() -> dict[str, Any]:
    from skelssl.methods import METHODS

    return METHODS


def encoder_classes() -> dict[str, Any]:
    from skelssl.models import ENCODERS

    return ENCODERS


def parse_override(text: str) -> tuple[list[str], Any]:
    """``"train.lr=0.05"`` → (["train", "lr"], 0.05); the value is read as YAML."""
    if "=" not in text:
        raise ConfigError(f"override {text!r}: expected KEY.PATH=VALUE, e.g. train.lr=0.05")
    key, raw = text.split("=", 1)
    path = [part for part in key.strip().split(".") if part]
    if not path:
        raise ConfigError(f"override {text!r}: empty key")
    try:
        return path, yaml.safe_load(raw) if raw.strip() else ""
    except yaml.YAMLError as error:
        problem = " ".join(str(error).split())
        raise ConfigError(f"--set {text}: the value is not valid YAML ({problem})") from None


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
        raise ConfigError(f"{path}: not valid YAML ({' '.join(str(error).split())})") from None
    if not isinstance(values, dict):
        raise ConfigError(f"{path}: expected a mapping at the top level")
    return values


def load_config(source: str | Path | dict, overrides: list[str] | None = None,
                where: str | None = None) -> RunConfig:
    """Read a YAML file (or a mapping), apply overrides and validate against the schema.

    ``where`` names the source in error messages (default: the file, or ``config``).
    """
    if isinstance(source, dict):
        values, where = copy.deepcopy(source), where or "config"
    else:
        values, where = read_yaml(source), where or str(source)
    if "stages" in values:
        raise ConfigError(f"{where}: a multi-stage pipeline config; run it with "
                          "`skelssl pretrain`, evaluate its run directory")
    values = apply_overrides(values, overrides or [])
    config = _parse(values, where)
    check_config(config, where)
    return config


def _parse(values: dict, where: str) -> RunConfig:
    if "method" not in values:
        raise ConfigError(f"{where}: missing the 'method' section")
    method = named_section(method_classes(), values["method"], f"{where}.method", "method")
    slots = method_classes()[method.name].encoder_slots
    plain = {key: value for key, value in values.items()
             if key not in ("method", "encoder", "encoders")}
    config: RunConfig = from_dict(RunConfig, plain, where)
    config.method = method
    if list(slots) == [SINGLE_SLOT]:
        if "encoders" in values:
            raise ConfigError(f"{where}.encoders: method {method.name} has one encoder; give "
                              "it as the 'encoder' section")
        if "encoder" not in values:
            raise ConfigError(f"{where}: missing the 'encoder' section")
        config.encoder = _encoder_section(values["encoder"], f"{where}.encoder")
        return config
    if "encoder" in values:
        raise ConfigError(f"{where}.encoder: method {method.name} has several encoders; give "
                          f"them as encoders: {{{', '.join(slots)}}}")
    sections = values.get("encoders")
    if not isinstance(sections, dict):
        raise ConfigError(f"{where}: missing the 'encoders' section "
                          f"(method {method.name} needs {', '.join(slots)})")
    for slot in sections:
        if slot not in slots:
            raise ConfigError(f"{where}.encoders.{slot}: method {method.name} has no encoder "
                              f"{slot!r}{closest(str(slot), list(slots))}")
    for slot in slots:
        if slot not in sections:
            raise ConfigError(f"{where}.encoders: missing the {slot!r} encoder section")
    config.encoders = {slot: _encoder_section(sections[slot], f"{where}.encoders.{slot}")
                       for slot in slots}
    return config


def _encoder_section(values: Any, where: str) -> Any:
    return named_section(encoder_classes(), values, where, "encoder")


def check_config(config: RunConfig, where: str = "config") -> None:
    """Value checks that the field types alone do not express."""
    if len(config.train.adam_betas) != 2 or not all(0 <= b < 1 for b in config.train.adam_betas):
        raise ConfigError(f"{where}: train.adam_betas = {config.train.adam_betas}; expected two "
                          "numbers in [0, 1)")
    beyond = [epoch for epoch in config.train.snapshot_epochs if epoch > config.train.epochs]
    if beyond:
        raise ConfigError(f"{where}: train.snapshot_epochs = {config.train.snapshot_epochs}; "
                          f"expected epochs from 0 to train.epochs ({config.train.epochs})")
    check_encoder_capabilities(config, where)


def check_encoder_capabilities(config: RunConfig, where: str = "config") -> None:
    """Each encoder section provides what the method needs of that slot (e.g. CRRL's
    per-frame outputs)."""
    slots = method_classes()[config.method.name].encoder_slots
    encoders = encoder_classes()
    for slot, section in config.encoder_sections().items():
        missing = set(slots[slot]) - set(encoders[section.name].provides)
        if missing:
            able = sorted(name for name, cls in encoders.items()
                          if set(slots[slot]) <= set(cls.provides))
            key = "encoder" if slot == SINGLE_SLOT else f"encoders.{slot}"
            raise ConfigError(f"{where}.{key}.name: method {config.method.name} needs an "
                              f"encoder providing {', '.join(sorted(missing))}; "
                              f"{section.name} does not (encoders that do: {', '.join(able)})")


def to_dict(config: RunConfig) -> dict:
    """Plain mapping of a config (what is written as the run's resolved config.yaml); the
    encoder sections appear the way the method takes them."""
    values = dataclasses.asdict(config)
    del values["encoders" if config.encoder is not None else "encoder"]
    return values


def dump_config(config: RunConfig) -> str:
    return yaml.safe_dump(to_dict(config), sort_keys=False)
