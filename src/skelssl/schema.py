"""Strict mapping → dataclass conversion: the one mechanism that validates every config section.

Unknown keys are errors naming the closest valid key; values are checked against the field's
type, including ``Literal[...]`` choices (the error lists the allowed values), ranges
(``Annotated[int, Range(1)]``, or the aliases below), lists, optional values and nested
dataclasses. Every float spelling users write is a float (YAML 1.1 reads ``1e-3`` as a string).
A leaf module: run configs, encoder and method sections and the self-describing ``encoder.pt``
all use it.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import re
import types
import typing
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from skelssl.errors import ConfigError

FLOAT = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


@dataclass(frozen=True)
class Range:
    """Bounds of a number field: ``minimum ≤ value ≤ maximum`` (``open_minimum``: > minimum,
    ``open_maximum``: < maximum)."""

    minimum: float | None = None
    maximum: float | None = None
    open_minimum: bool = False
    open_maximum: bool = False

    def check(self, value: float, where: str) -> None:
        low = self.minimum is not None and (value <= self.minimum if self.open_minimum
                                            else value < self.minimum)
        high = self.maximum is not None and (value >= self.maximum if self.open_maximum
                                             else value > self.maximum)
        if low or high or (isinstance(value, float) and not math.isfinite(value)):
            raise ConfigError(f"{where}: {value!r}; expected {self.describe()}")

    def describe(self) -> str:
        parts = []
        if self.minimum is not None:
            parts.append(f"{'>' if self.open_minimum else '≥'} {self.minimum:g}")
        if self.maximum is not None:
            parts.append(f"{'<' if self.open_maximum else '≤'} {self.maximum:g}")
        return "a number " + " and ".join(parts) if parts else "a finite number"


AtLeastOne = Annotated[int, Range(1)]
NonNegativeInt = Annotated[int, Range(0)]
NonNegative = Annotated[float, Range(0)]
Positive = Annotated[float, Range(0, open_minimum=True)]
Fraction = Annotated[float, Range(0, 1)]  # momentum-like factors, 0..1
DropRate = Annotated[float, Range(0, 1, open_maximum=True)]


def closest(key: str, valid: list[str]) -> str:
    """``"; did you mean 'lr'?"`` for the valid key nearest to ``key`` (empty if none)."""
    match = difflib.get_close_matches(key, valid, n=1, cutoff=0.6)
    return f"; did you mean {match[0]!r}?" if match else ""


def choices(kind: Any) -> tuple[Any, ...]:
    """The allowed values of a ``Literal[...]`` type (or of a list of them)."""
    if typing.get_origin(kind) is list:
        (kind,) = typing.get_args(kind)
    if typing.get_origin(kind) is not Literal:
        raise TypeError(f"{kind} is not a Literal type")
    return typing.get_args(kind)


def field_choices(cls: type, name: str) -> tuple[Any, ...]:
    """The allowed values of the ``Literal`` field ``name`` of dataclass ``cls``."""
    return choices(typing.get_type_hints(cls)[name])


def _convert(value: Any, kind: Any, where: str) -> Any:
    origin = typing.get_origin(kind)
    if origin in (typing.Union, types.UnionType):
        options = typing.get_args(kind)
        if value is None and type(None) in options:
            return None
        kind = next(option for option in options if option is not type(None))
        origin = typing.get_origin(kind)
    if origin is Annotated:
        base, *rules = typing.get_args(kind)
        value = _convert(value, base, where)
        for rule in rules:
            if isinstance(rule, Range):
                rule.check(value, where)
        return value
    if origin is Literal:
        allowed = typing.get_args(kind)
        if value not in allowed or isinstance(value, bool) != isinstance(allowed[0], bool):
            hint = closest(str(value), [str(a) for a in allowed])
            raise ConfigError(f"{where}: {value!r} is not one of "
                              f"{', '.join(map(repr, allowed))}{hint}")
        return value
    if dataclasses.is_dataclass(kind) and isinstance(kind, type):
        return from_dict(kind, value, where)
    if origin is list:
        if not isinstance(value, list):
            raise ConfigError(f"{where}: expected a list, got {value!r}")
        (item,) = typing.get_args(kind)
        return [_convert(v, item, f"{where}[{i}]") for i, v in enumerate(value)]
    if origin is dict:
        if not isinstance(value, dict):
            raise ConfigError(f"{where}: expected a mapping, got {value!r}")
        key_kind, item = typing.get_args(kind)
        return {_convert(k, key_kind, f"{where}"): _convert(v, item, f"{where}.{k}")
                for k, v in value.items()}
    if kind is Any:
        return value
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if kind is float and isinstance(value, str) and FLOAT.fullmatch(value.strip()):
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
    hints = typing.get_type_hints(cls, include_extras=True)
    names = [f.name for f in dataclasses.fields(cls)]
    for key in values:
        if key not in names:
            raise ConfigError(f"{where}.{key}: unknown key{closest(str(key), names)} "
                              f"(valid: {', '.join(names)})")
    kwargs = {name: _convert(values[name], hints[name], f"{where}.{name}")
              for name in names if name in values}
    return cls(**kwargs)


def named_section(registry: dict[str, Any], values: Any, where: str, kind: str) -> Any:
    """A section whose schema its ``name`` key chooses: ``registry[name].Config``."""
    if not isinstance(values, dict) or "name" not in values:
        raise ConfigError(f"{where}: needs a 'name' (one of {', '.join(sorted(registry))})")
    name = values["name"]
    if name not in registry:
        hint = closest(str(name), list(registry))
        raise ConfigError(f"{where}.name: unknown {kind} {name!r}{hint} "
                          f"(valid: {', '.join(sorted(registry))})")
    return from_dict(registry[name].Config, values, where)
