"""The "bring your own" ``.npz`` format: any skeleton data in one file (see ``docs/data.md``).

Arrays (N = number of sequences):

- ``joints``: zero-padded (N, T, V, C) or (N, M, T, V, C) float, with optional ``lengths`` (N,);
  **or** ``sequences``: an object array of N arrays of shape (T, V, C) or (M, T, V, C)
  (object arrays are unpickled: load only files you trust);
- ``labels``: (N,) integer class indices (0-based);
- optional ``class_names`` (K,) strings, ``names`` (N,) strings, ``split`` (N,) strings
  ``train``/``test`` (one benchmark called ``default``), and ``layout``: a built-in layout name,
  a YAML file path (relative to the ``.npz``), or the YAML text itself.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import yaml

from skelssl.data.readers.padded import (
    check_labels,
    default_class_names,
    infer_layout,
    sequences_from_padded,
)
from skelssl.data.sequence import RawDataset, Sequence, check_sequence
from skelssl.errors import PrepareError, SampleError
from skelssl.skeleton import BUILTIN_LAYOUTS, Layout, layout_from_dict

KNOWN_KEYS = {"joints", "lengths", "sequences", "labels", "class_names", "names", "split",
              "layout"}
SPLIT_NAMES = ("train", "test")


def _layout_from_file(value: str, base: Path) -> Layout | str:
    if value in BUILTIN_LAYOUTS:
        return value
    candidate = base / value
    if candidate.suffix in (".yaml", ".yml"):
        return str(candidate)
    return layout_from_dict(yaml.safe_load(value), source=f"{base} 'layout' text")


def _load(path: Path) -> dict[str, np.ndarray]:
    try:
        with np.load(path, allow_pickle=False) as archive:
            return {k: archive[k] for k in archive.files}
    except ValueError:  # object array of variable-length sequences
        with np.load(path, allow_pickle=True) as archive:
            return {k: archive[k] for k in archive.files}


def read_custom(raw: str | Path, layout: str | Layout | None = None) -> tuple[RawDataset,
                                                                              list[SampleError]]:
    """Read a bring-your-own ``.npz``; ``layout`` overrides the file's own ``layout`` entry."""
    path = Path(raw)
    if not path.is_file():
        raise PrepareError(f"custom dataset file {path} does not exist")
    arrays = _load(path)
    unknown = set(arrays) - KNOWN_KEYS
    if unknown:
        raise PrepareError(f"{path}: unknown arrays {sorted(unknown)}; known: {sorted(KNOWN_KEYS)}")
    if "labels" not in arrays or ("joints" in arrays) == ("sequences" in arrays):
        raise PrepareError(f"{path}: expected 'labels' and exactly one of 'joints' or 'sequences'")
    if layout is None and "layout" in arrays:
        layout = _layout_from_file(str(arrays["layout"]), path.parent)
    if "joints" in arrays:
        joints = arrays["joints"]
        if joints.ndim == 4:
            joints = joints[:, None]
        if joints.ndim != 5:
            raise PrepareError(f"{path}: 'joints' has shape {arrays['joints'].shape}, expected "
                               "(N, T, V, C) or (N, M, T, V, C)")
        count = joints.shape[0]
        chosen = infer_layout(joints.shape[3], layout, str(path))
    else:
        items = list(arrays["sequences"])
        count = len(items)
        first = np.asarray(items[0]) if items else np.zeros((1, 1, 0, 3))
        chosen = infer_layout(first.shape[-2], layout, str(path))
    labels = check_labels(arrays["labels"], count, f"{path} 'labels'")
    names = [str(n) for n in arrays["names"]] if "names" in arrays else \
        [f"{path.stem}_{i:06d}" for i in range(count)]
    if len(names) != count:
        raise PrepareError(f"{path}: {len(names)} names for {count} sequences")
    if "joints" in arrays:
        sequences, damaged, kept = sequences_from_padded(joints, labels, names, chosen,
                                                         str(path), arrays.get("lengths"))
    else:
        sequences, damaged, kept = [], [], []
        for i, (name, item) in enumerate(zip(names, items, strict=True)):
            item = np.asarray(item, dtype=np.float32)
            try:
                seq = Sequence(name, item[None] if item.ndim == 3 else item, int(labels[i]))
                sequences.append(check_sequence(seq, chosen, f"{path} sequence {i} ({name})"))
                kept.append(i)
            except SampleError as error:
                damaged.append(error)
    splits: dict[str, dict[str, list[int]]] = {}
    if "split" in arrays:
        assignment = [str(s) for s in arrays["split"]]
        if len(assignment) != count or set(assignment) - set(SPLIT_NAMES):
            raise PrepareError(f"{path}: 'split' must hold {count} entries, each 'train' or 'test'")
        splits["default"] = {part: [j for j, i in enumerate(kept) if assignment[i] == part]
                             for part in SPLIT_NAMES}
    num_classes = max((s.label for s in sequences), default=-1) + 1
    class_names = [str(c) for c in arrays["class_names"]] if "class_names" in arrays else \
        default_class_names(chosen, num_classes)
    if len(class_names) < num_classes:
        raise PrepareError(f"{path}: {len(class_names)} class names for labels up to "
                           f"{num_classes - 1}")
    dataset = RawDataset(layout=chosen, class_names=class_names, sequences=sequences,
                         splits=splits)
    return dataset, damaged
