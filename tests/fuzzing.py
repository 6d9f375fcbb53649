"""Damaged variants of raw data files, and the rule every reader must follow on them.

A variant is the bytes (or arrays) of an intact file with one seeded damage. The rule: reading
it gives either the same sequences as the intact file, or an error (raised, or recorded as a
damaged sample) that is one line naming the file — never another exception, never silently
different data. Damages are those no format could tell from real data are left out (a
coordinate changed to another plausible coordinate).
"""

from __future__ import annotations

import random
import re
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import numpy as np

from skelssl.errors import UserError

NUMBER = re.compile(rb"-?\d+(\.\d+)?(e[-+]?\d+)?")
BAD_NUMBERS = [b"nan", b"inf", b"-inf", b"1e39", b"1e308", b"-1e400", b"", b"x", b"1,5",
               b"99999999999"]


def text_variants(data: bytes, count: int, seed: int) -> list[tuple[str, bytes]]:
    """Damaged copies of a text file: cut, lines dropped or doubled, numbers replaced by
    non-finite, absurd, malformed or fractional ones, bytes of other encodings."""
    rng = random.Random(seed)
    numbers = [m.span() for m in NUMBER.finditer(data)]
    lines = data.split(b"\n")
    variants = []
    for i in range(count):
        kind = i % 5
        if kind == 0:
            cut = rng.randrange(len(data))
            variants.append((f"cut at byte {cut}", data[:cut]))
        elif kind == 1:
            j = rng.randrange(len(lines))
            variants.append((f"line {j + 1} dropped", b"\n".join(lines[:j] + lines[j + 1:])))
        elif kind == 2:
            j = rng.randrange(len(lines))
            variants.append((f"line {j + 1} doubled",
                             b"\n".join(lines[:j + 1] + lines[j:])))
        elif kind == 3:
            start, end = numbers[rng.randrange(len(numbers))]
            bad = rng.choice(BAD_NUMBERS)
            variants.append((f"number at byte {start} → {bad!r}",
                             data[:start] + bad + data[end:]))
        else:
            at = rng.randrange(len(data))
            variants.append((f"byte {at} → 0xff", data[:at] + b"\xff" + data[at + 1:]))
    return variants


def binary_variants(data: bytes, count: int, seed: int) -> list[tuple[str, bytes]]:
    """Damaged copies of a binary file (.npy, .npz): cut, header bytes flipped, emptied."""
    rng = random.Random(seed)
    variants: list[tuple[str, bytes]] = [("empty", b"")]
    for i in range(count - 1):
        if i % 2 == 0:
            cut = rng.randrange(len(data))
            variants.append((f"cut at byte {cut}", data[:cut]))
        else:
            at = rng.randrange(min(len(data), 160))
            flipped = bytes([data[at] ^ (1 << rng.randrange(8))])
            variants.append((f"header byte {at} flipped", data[:at] + flipped + data[at + 1:]))
    return variants


def array_variants(arrays: dict[str, np.ndarray], key: str, count: int, seed: int
                   ) -> list[tuple[str, dict[str, np.ndarray]]]:
    """Copies of a set of arrays with one value of ``arrays[key]`` made non-finite or absurd,
    or the array given another shape or type."""
    rng = np.random.default_rng(seed)
    variants = []
    for i in range(count):
        damaged = {k: v.copy() for k, v in arrays.items()}
        target = damaged[key]
        kind = i % 4
        if kind < 2:
            flat = target.reshape(-1).astype(np.float64)
            where = int(rng.integers(len(flat)))
            flat[where] = [np.nan, np.inf, -1e39, 1e308][int(rng.integers(4))] if kind == 0 \
                else 10_000_000
            damaged[key] = flat.reshape(target.shape)
            variants.append((f"{key}[{where}] damaged", damaged))
        elif kind == 2:
            damaged[key] = target.reshape(-1)[: target.size // 2]
            variants.append((f"{key} cut to half, flat", damaged))
        else:
            damaged[key] = np.array([str(v) for v in target.reshape(-1)[:5]])
            variants.append((f"{key} as strings", damaged))
    return variants


Reader = Callable[[Path], object]


def outcome(read: Reader, path: Path, clean: object, same: Callable[[object, object], bool]
            ) -> str:
    """"clean", "error" or "recorded" (a damaged sample named); AssertionError otherwise."""
    try:
        result = read(path)
    except UserError as error:
        message = str(error)
        assert "\n" not in message and path.name in message, message
        return "error"
    damaged = result[1] if isinstance(result, tuple) else []
    if damaged:
        assert all(path.name in str(error) and "\n" not in str(error) for error in damaged)
        return "recorded"
    assert same(result, clean), f"{path.name}: different data read without an error"
    return "clean"


def same_sequences(a: object, b: object) -> bool:
    """Two readers' results hold the same sequences (names, labels, joints)."""
    first, second = (getattr(r[0] if isinstance(r, tuple) else r, "sequences", [r])
                     for r in (a, b))
    if len(first) != len(second):
        return False
    return all(x.name == y.name and x.label == y.label and x.joints.shape == y.joints.shape
               and np.array_equal(x.joints, y.joints) for x, y in zip(first, second, strict=True))


def fuzz(read: Reader, variants: list[tuple[str, bytes]], folder: Path, name: str,
         clean: object, same: Callable[[object, object], bool] = same_sequences) -> Counter:
    """Write each variant as ``folder/name`` and read it; returns the outcomes counted."""
    counts: Counter = Counter()
    for description, data in variants:
        path = folder / name
        path.write_bytes(data)
        try:
            counts[outcome(read, path, clean, same)] += 1
        except AssertionError as failure:
            raise AssertionError(f"{description}: {failure}") from None
        except Exception as error:
            raise AssertionError(f"{description}: {type(error).__name__}: {error}") from error
    return counts
