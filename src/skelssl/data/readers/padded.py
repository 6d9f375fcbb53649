"""Sequences from zero-padded arrays, the form in which preprocessed datasets are shipped."""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import numpy as np

from skelssl.data.readers.ntu import NTU120_CLASSES
from skelssl.data.sequence import Sequence, check_sequence
from skelssl.errors import PrepareError, SampleError
from skelssl.skeleton import BUILTIN_LAYOUTS, Layout, load_layout


def valid_length(joints: np.ndarray) -> int:
    """Frames up to the last one with any non-zero coordinate; ``joints`` is (M, T, V, C)."""
    nonzero = np.flatnonzero(np.abs(joints).sum(axis=(0, 2, 3)) > 0)
    return int(nonzero[-1]) + 1 if nonzero.size else 0


def sequences_from_padded(joints: np.ndarray, labels: np.ndarray, names: list[str],
                          layout: Layout, source: str,
                          lengths: np.ndarray | None = None
                          ) -> tuple[list[Sequence], list[SampleError], list[int]]:
    """Split (N, M, T, V, C) padded arrays into Sequences (views, not copies).

    Returns the good sequences, the damaged ones and the input index of each good one. Without
    ``lengths`` a sample's length is the last non-zero frame; an all-zero sample is a 0-frame
    sequence and reported as damaged.
    """
    sequences, damaged, kept = [], [], []
    for i, name in enumerate(names):
        where = f"{source} sample {i} ({name})"
        sample = joints[i]
        length = int(lengths[i]) if lengths is not None else valid_length(sample)
        if not 0 <= length <= sample.shape[1]:
            damaged.append(SampleError(where, f"length {length} outside 0..{sample.shape[1]}"))
            continue
        try:
            seq = Sequence(name=name, joints=sample[:, :length], label=int(labels[i]))
            sequences.append(check_sequence(seq, layout, where))
            kept.append(i)
        except SampleError as error:
            damaged.append(error)
    return sequences, damaged, kept


def check_labels(labels: np.ndarray, count: int, source: str) -> np.ndarray:
    """Labels as a 1-D int64 array of ``count`` non-negative class indices."""
    labels = np.asarray(labels)
    if labels.ndim == 2:  # one-hot
        labels = labels.argmax(axis=1)
    if labels.shape != (count,):
        raise PrepareError(f"{source}: {labels.shape[0] if labels.ndim else 0} labels for "
                           f"{count} samples")
    if labels.size and (not np.issubdtype(labels.dtype, np.integer) and
                        not np.array_equal(labels, np.round(labels))):
        raise PrepareError(f"{source}: labels must be integer class indices")
    labels = labels.astype(np.int64)
    if labels.size and labels.min() < 0:
        raise PrepareError(f"{source}: negative label {labels.min()}")
    return labels


class _PlainUnpickler(pickle.Unpickler):
    """Loads only lists, tuples, strings and numbers: label files, never code."""

    SAFE = {("builtins", n) for n in ("list", "tuple", "str", "int", "float", "dict")}

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in self.SAFE:
            return super().find_class(module, name)
        if module.startswith("numpy") and name in ("scalar", "dtype", "_reconstruct",
                                                   "ndarray"):
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"refusing to load {module}.{name} from a label file")


def load_labels(path: str | Path) -> tuple[list[str] | None, np.ndarray]:
    """Sample names (when the file has them) and labels from ``.npy`` or ``(names, labels).pkl``."""
    path = Path(path)
    if not path.is_file():
        raise PrepareError(f"label file {path} does not exist")
    if path.suffix == ".npy":
        return None, np.load(path, allow_pickle=False)
    if path.suffix in (".pkl", ".pickle"):
        with path.open("rb") as f:
            try:
                content = _PlainUnpickler(f).load()
            except (pickle.UnpicklingError, EOFError) as error:
                raise PrepareError(f"{path}: not a (names, labels) pickle ({error})") from error
        if not (isinstance(content, (tuple, list)) and len(content) == 2):
            raise PrepareError(f"{path}: expected a pickled (sample_names, labels) pair")
        names, labels = content
        return [str(n) for n in names], np.asarray(labels)
    raise PrepareError(f"{path}: labels must be a .npy array or a (names, labels) .pkl file")


def infer_layout(num_joints: int, layout: str | Layout | None, source: str) -> Layout:
    """The given layout, or the built-in one with ``num_joints`` joints."""
    if layout is not None:
        chosen = load_layout(layout)
        if chosen.num_joints != num_joints:
            raise PrepareError(f"{source}: {num_joints} joints per frame, but layout "
                               f"{chosen.name!r} has {chosen.num_joints}")
        return chosen
    matches = [lay for lay in BUILTIN_LAYOUTS.values() if lay.num_joints == num_joints]
    if len(matches) != 1:
        raise PrepareError(f"{source}: {num_joints} joints per frame matches no built-in layout; "
                           "pass --layout NAME_OR_YAML")
    return matches[0]


def default_class_names(layout: Layout, num_classes: int) -> list[str]:
    """NTU action names for NTU-shaped data with 60/120 classes, else ``class_<i>``."""
    if layout.name == "ntu25" and num_classes in (60, 120):
        return list(NTU120_CLASSES[:num_classes])
    return [f"class_{i}" for i in range(num_classes)]
