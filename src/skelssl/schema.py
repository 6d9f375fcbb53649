"""Strict mapping → dataclass conversion: the one mechanism that validates every config section.

Unknown keys are errors naming the closest valid key; values are checked against the field's
type, including ``Literal[...]`` choices (the error lists the allowed values), lists, optional
values and nested dataclasses. A leaf module: run configs, encoder and method sections and the
self-describing ``encoder.pt`` all use it.
"""

from __future__ import annotations

import dataclasses
import difflib
import types
import typing
from typing import Any, Literal

from skelssl.errors import ConfigError


def closest(key: str, valid: list[str]) -> str:
    """``"; did you mean 'lr'?"`` for the valid key nearest to ``key`` (empty if none)."""
    match = difflib.get_close_matches(key, valid, n=1, cutoff=0.0)
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
