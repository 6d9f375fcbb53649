"""Sequences from zero-padded arrays, the form in which preprocessed datasets are shipped."""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import numpy as np

from skelssl.data.readers.ntu import NTU120_CLASSES
from skelssl.data.sequence import Sequence, check_sequence, valid_length
from skelssl.errors import PrepareError, SampleError
from skelssl.skeleton import BUILTIN_LAYOUTS, KEYPOINT_LAYOUTS, Layout, load_layout


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


def check_labels(labels: np.ndarray, count: int, source: str,
                 num_classes: int | None = None) -> np.ndarray:
    """Labels as a 1-D int64 array of ``count`` class indices in 0..K−1.

    Accepted: (N,) integers, an (N, 1) column, or (N, K) one-hot rows. K is ``num_classes``
    when the data names its classes, else at most the number of samples or 1000, whichever is
    larger (a label beyond that is a damaged file, not a class).
    """
    labels = np.asarray(labels)
    if labels.dtype.kind not in "iufb":
        raise PrepareError(f"{source}: labels of type {labels.dtype}; expected integer class "
                           "indices")
    if labels.ndim == 2 and labels.shape[1] == 1:
        labels = labels[:, 0]
    elif labels.ndim == 2:
        if not (np.isin(labels, (0, 1)).all() and (labels.sum(axis=1) == 1).all()):
            raise PrepareError(f"{source}: labels of shape {labels.shape} are not one-hot rows; "
                               f"expected ({count},) class indices or ({count}, K) one-hot")
        num_classes = num_classes or labels.shape[1]
        labels = labels.argmax(axis=1)
    if labels.shape != (count,):
        raise PrepareError(f"{source}: labels of shape {labels.shape} for {count} samples; "
                           f"expected ({count},) class indices or ({count}, K) one-hot rows")
    if labels.size and not np.issubdtype(labels.dtype, np.integer):
        whole = np.isfinite(labels) & (labels == np.round(labels))
        if not whole.all():
            first = int(np.flatnonzero(~whole)[0])
            raise PrepareError(f"{source}: label {labels[first]} of sample {first}: expected "
                               "integer class indices")
    limit = num_classes if num_classes is not None else max(count, MAX_UNNAMED_CLASSES)
    bad = np.flatnonzero((labels < 0) | (labels >= limit))  # before any cast can overflow
    if bad.size:
        first = int(bad[0])
        what = (f"given {limit} class names" if num_classes is not None else
                f"more classes than samples and than {MAX_UNNAMED_CLASSES} (a damaged label?); "
                "give the class names to declare more")
        raise PrepareError(f"{source}: label {labels[first]} of sample {first} is outside "
                           f"0..{limit - 1}: {what}")
    return labels.astype(np.int64)


MAX_UNNAMED_CLASSES = 1000


class PlainUnpickler(pickle.Unpickler):
    """Loads only lists, tuples, strings, numbers and plain NumPy arrays and scalars: label
    files, never code."""

    SAFE = {("builtins", n) for n in ("list", "tuple", "str", "int", "float", "dict")} | {
        (module, name) for module in ("numpy.core.multiarray", "numpy._core.multiarray")
        for name in ("_reconstruct", "scalar")} | {("numpy", "ndarray"), ("numpy", "dtype")}

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in self.SAFE:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"refusing to load {module}.{name} from a label file")


def load_labels(path: str | Path) -> tuple[list[str] | None, np.ndarray]:
    """Sample names (when the file has them) and labels from ``.npy`` or ``(names, labels).pkl``."""
    path = Path(path)
    if not path.is_file():
        raise PrepareError(f"label file {path} does not exist")
    if path.suffix == ".npy":
        return None, np.asarray(load_npy(path))
    if path.suffix in (".pkl", ".pickle"):
        with path.open("rb") as f:
            try:
                content = PlainUnpickler(f).load()
            except (pickle.UnpicklingError, EOFError) as error:
                raise PrepareError(f"{path}: not a (names, labels) pickle ({error})") from error
        if not (isinstance(content, (tuple, list)) and len(content) == 2):
            raise PrepareError(f"{path}: expected a pickled (sample_names, labels) pair")
        names, labels = content
        return [str(n) for n in names], np.asarray(labels)
    raise PrepareError(f"{path}: labels must be a .npy array or a (names, labels) .pkl file")


def load_npz(path: Path, allow_pickle: bool = False, pickle_hint: str = "unpickling runs "
             "code stored in the file") -> dict[str, np.ndarray]:
    """Every array of an ``.npz``; a damaged archive, or one that would need unpickling
    without ``allow_pickle``, is a :class:`PrepareError` naming the file."""
    try:
        with np.load(path, allow_pickle=allow_pickle) as archive:
            return {k: archive[k] for k in archive.files}
    except ValueError as error:
        if "pickle" in str(error):
            raise PrepareError(f"{path}: holds pickled objects; {pickle_hint}") from None
        raise PrepareError(f"{path}: not a readable .npz ({error})") from None
    except Exception as error:  # numpy parses a damaged archive in many ways; all are damage
        raise PrepareError(f"{path}: not a readable .npz, damaged or truncated "
                           f"({type(error).__name__}: {' '.join(str(error).split())})") from None


def load_npy(path: Path) -> np.ndarray:
    """A ``.npy`` array, memory-mapped, never unpickled; unreadable is a PrepareError."""
    try:
        array = np.load(path, mmap_mode="r", allow_pickle=False)
    except Exception as error:  # a damaged header fails in many ways; all are damage
        raise PrepareError(f"{path}: not a readable .npy array ({type(error).__name__}: "
                           f"{' '.join(str(error).split())})") from None
    missing = mapped_shortfall(array, path)
    if missing:
        raise PrepareError(f"{path}: {missing} bytes shorter than its header says (a truncated "
                           "file)")
    return array


def mapped_shortfall(array: np.ndarray, path: Path) -> int:
    """Bytes a memory-mapped array's file lacks (reading them would crash the process)."""
    offset = int(getattr(array, "offset", 0))
    return max(0, offset + array.nbytes - path.stat().st_size)


def infer_layout(num_joints: int, layout: str | Layout | None, source: str,
                 notes: list[str] | None = None, read_as: str = "", channels: int = 3
                 ) -> Layout:
    """The given layout, or the built-in one with ``num_joints`` joints among those of 3-D
    skeletons or, for ``channels`` = 2, of 2-D keypoints (then a note says so:
    another skeleton with as many joints in another order would be read wrongly). ``read_as``
    says how the array was read, e.g. "'joints' of shape (2, 20, 3, 6) read as (N, T, V, C)",
    for the error when the joint count does not fit."""
    if layout is not None:
        chosen = load_layout(layout)
        if chosen.num_joints != num_joints:
            axes = f"{read_as}: " if read_as else ""
            raise PrepareError(f"{source}: {axes}{num_joints} joints per frame, but layout "
                               f"{chosen.name!r} has {chosen.num_joints}"
                               + (" (are the axes in another order?)" if read_as else ""))
        return chosen
    matches = [lay for lay in BUILTIN_LAYOUTS.values() if lay.num_joints == num_joints and
               (lay.name in KEYPOINT_LAYOUTS) == (channels == 2)]
    if len(matches) != 1:
        kind = "2-D keypoint" if channels == 2 else "3-D skeleton"
        raise PrepareError(f"{source}: {num_joints} joints per frame matches no built-in "
                           f"{kind} layout; pass --layout NAME_OR_YAML")
    if notes is not None:
        first = ", ".join(matches[0].joint_names[:4])
        notes.append(f"no layout given: {num_joints} joints per frame were read in the order of "
                     f"the built-in layout {matches[0].name!r} ({first}, ...); if your joints "
                     "come in another order, pass --layout")
    return matches[0]


def default_class_names(layout: Layout, num_classes: int) -> list[str]:
    """NTU action names for NTU-shaped data with 60/120 classes, else ``class_<i>``."""
    if layout.name == "ntu25" and num_classes in (60, 120):
        return list(NTU120_CLASSES[:num_classes])
    return [f"class_{i}" for i in range(num_classes)]
