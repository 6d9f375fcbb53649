"""The "bring your own" ``.npz`` format: any skeleton data in one file (see ``docs/data.md``).

Arrays (N = number of sequences), one of three ways to give the joints:

- ``joints``: zero-padded (N, T, V, C) or (N, M, T, V, C) float, with optional ``lengths`` (N,);
- ``frames`` + ``lengths``: all sequences' frames one after the other, (ΣT, V, C) or
  (M, ΣT, V, C), and each sequence's frame count (N,) — variable lengths without pickling;
- ``sequences``: an object array of N arrays (T, V, C) or (M, T, V, C). NumPy can only read it
  by unpickling, which runs code stored in the file, so it is refused unless
  ``allow_pickle=True`` (``--allow-pickle``: only for files you trust).

Without ``lengths``, a sequence ends at its last frame with a non-zero coordinate (trailing
all-zero frames are padding; all-zero frames inside are kept and counted in a note). Plus
``labels``: (N,) integer class indices (0-based); optional ``class_names`` (K,) strings,
``names`` (N,) strings, ``split`` (N,) strings ``train``/``test`` (one benchmark called
``default``), ``split_<name>`` (N,) the same for benchmark ``<name>`` (several benchmarks in one
file; an empty string leaves a sample out of it), ``meta_<key>`` (N,) per-sample metadata
(subject, view, trial, ...: kept in ``meta.json``, and what validation splits and ``--rule``
benchmarks are built from), and ``layout``: a built-in layout name, a YAML file path
(relative to the ``.npz``), or the YAML text itself. With ``scores`` (or a layout with
``scores: true``) the last of the C values of every joint is a detection confidence.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import yaml

from skelssl.data.readers.padded import (
    check_labels,
    default_class_names,
    infer_layout,
    load_npz,
    sequences_from_padded,
)
from skelssl.data.sequence import (
    RawDataset,
    Sequence,
    check_sequence,
    label_notes,
    valid_length,
    zero_frame_notes,
)
from skelssl.errors import PrepareError, SampleError
from skelssl.skeleton import BUILTIN_LAYOUTS, Layout, layout_from_dict

JOINT_SOURCES = ("joints", "frames", "sequences")
KNOWN_KEYS = {*JOINT_SOURCES, "lengths", "labels", "class_names", "names", "split", "layout"}
SPLIT_NAMES = ("train", "test")
PICKLE_HINT = ("unpickling runs code stored in the file; store variable-length sequences as "
               "'frames' + 'lengths' (docs/data.md), or pass --allow-pickle for a file you trust")


def _layout_from_file(value: str, base: Path) -> Layout | str:
    if value in BUILTIN_LAYOUTS:
        return value
    candidate = base / value
    if candidate.suffix in (".yaml", ".yml"):
        return str(candidate)
    return layout_from_dict(yaml.safe_load(value), source=f"{base} 'layout' text")


def _split_frames(arrays: dict[str, np.ndarray], path: Path) -> list[np.ndarray]:
    """``frames`` (ΣT, V, C) or (M, ΣT, V, C) cut into sequences by ``lengths``."""
    frames, lengths = arrays["frames"], arrays.get("lengths")
    if lengths is None:
        raise PrepareError(f"{path}: 'frames' needs 'lengths' (each sequence's frame count)")
    if frames.ndim == 3:
        frames = frames[None]
    lengths = np.asarray(lengths)
    if frames.ndim != 4 or lengths.ndim != 1 or not np.issubdtype(lengths.dtype, np.integer):
        raise PrepareError(f"{path}: 'frames' of shape {arrays['frames'].shape} and 'lengths' "
                           f"of shape {lengths.shape}: expected (ΣT, V, C) or (M, ΣT, V, C) "
                           "and (N,) integers")
    if (lengths < 1).any() or int(lengths.sum()) != frames.shape[1]:
        raise PrepareError(f"{path}: 'lengths' sum to {int(lengths.sum())} frames (each ≥ 1), "
                           f"'frames' holds {frames.shape[1]}")
    ends = np.cumsum(lengths)
    return [frames[:, end - length:end] for end, length in zip(ends, lengths, strict=True)]


def _variable_sequences(items: list[np.ndarray], labels: np.ndarray, names: list[str],
                        layout: Layout, path: Path
                        ) -> tuple[list[Sequence], list[SampleError], list[int]]:
    sequences, damaged, kept = [], [], []
    for i, (name, item) in enumerate(zip(names, items, strict=True)):
        where = f"{path} sequence {i} ({name})"
        try:
            joints = np.asarray(item, dtype=np.float32)
            if joints.ndim == 3:
                joints = joints[None]
            if joints.ndim != 4:
                raise SampleError(where, f"shape {np.shape(item)}; expected (T, V, C) or "
                                         "(M, T, V, C)")
            seq = Sequence(name, joints[:, :valid_length(joints)], int(labels[i]))
            sequences.append(check_sequence(seq, layout, where))
            kept.append(i)
        except (TypeError, ValueError) as error:
            damaged.append(SampleError(where, f"not an array of numbers ({error})"))
        except SampleError as error:
            damaged.append(error)
    return sequences, damaged, kept


def read_custom(raw: str | Path, layout: str | Layout | None = None, allow_pickle: bool = False,
                scores: bool = False) -> tuple[RawDataset, list[SampleError]]:
    """Read a bring-your-own ``.npz``; ``layout`` overrides the file's own ``layout`` entry;
    ``scores``: each joint's last value is a confidence."""
    path = Path(raw)
    if not path.is_file():
        raise PrepareError(f"custom dataset file {path} does not exist")
    arrays = load_npz(path, allow_pickle, PICKLE_HINT)
    unknown = {k for k in set(arrays) - KNOWN_KEYS if not k.startswith(("split_", "meta_"))}
    if unknown:
        raise PrepareError(f"{path}: unknown arrays {sorted(unknown)}; known: {sorted(KNOWN_KEYS)}")
    given = [key for key in JOINT_SOURCES if key in arrays]
    if "labels" not in arrays or len(given) != 1:
        raise PrepareError(f"{path}: expected 'labels' and exactly one of 'joints', 'frames' "
                           f"or 'sequences' (found {given or 'none'})")
    if layout is None and "layout" in arrays:
        layout = _layout_from_file(str(arrays["layout"]), path.parent)
    notes: list[str] = []
    class_names = ([str(c) for c in arrays["class_names"]] if "class_names" in arrays
                   else None)
    if given == ["joints"]:
        joints = arrays["joints"]
        if joints.ndim == 4:
            joints = joints[:, None]
        if joints.ndim != 5:
            raise PrepareError(f"{path}: 'joints' has shape {arrays['joints'].shape}, expected "
                               "(N, T, V, C) or (N, M, T, V, C)")
        count = joints.shape[0]
        axes = "(N, T, V, C)" if arrays["joints"].ndim == 4 else "(N, M, T, V, C)"
        chosen = infer_layout(joints.shape[3], layout, str(path), notes,
                              f"'joints' of shape {arrays['joints'].shape} read as {axes}",
                              joints.shape[-1] - scores)
    else:
        items = (_split_frames(arrays, path) if given == ["frames"]
                 else list(arrays["sequences"]))
        count = len(items)
        first = np.asarray(items[0]) if items else np.zeros((1, 1, 0, 3))
        if first.ndim not in (3, 4):
            raise PrepareError(f"{path}: sequence 0 has shape {first.shape}; expected (T, V, C) "
                               "or (M, T, V, C)")
        axes = "(T, V, C)" if first.ndim == 3 else "(M, T, V, C)"
        chosen = infer_layout(first.shape[-2], layout, str(path), notes,
                              f"sequence 0 of shape {first.shape} read as {axes}",
                              first.shape[-1] - scores)
    if scores:
        chosen = replace(chosen, scores=True)
    labels = check_labels(arrays["labels"], count, f"{path} 'labels'",
                          None if class_names is None else len(class_names))
    names = [str(n) for n in arrays["names"]] if "names" in arrays else \
        [f"{path.stem}_{i:06d}" for i in range(count)]
    if len(names) != count:
        raise PrepareError(f"{path}: {len(names)} names for {count} sequences")
    if given == ["joints"]:
        lengths = arrays.get("lengths")
        if lengths is not None and (lengths.shape != (count,)
                                    or not np.issubdtype(lengths.dtype, np.integer)):
            raise PrepareError(f"{path}: 'lengths' of shape {lengths.shape} and type "
                               f"{lengths.dtype}; expected ({count},) integers")
        sequences, damaged, kept = sequences_from_padded(joints, labels, names, chosen,
                                                         str(path), lengths)
    else:
        sequences, damaged, kept = _variable_sequences(items, labels, names, chosen, path)
    splits: dict[str, dict[str, list[int]]] = {}
    for key in sorted(k for k in arrays if k == "split" or k.startswith("split_")):
        assignment = [str(s) for s in arrays[key]]
        if len(assignment) != count or set(assignment) - {*SPLIT_NAMES, ""}:
            raise PrepareError(f"{path}: {key!r} must hold {count} entries, each 'train', "
                               "'test' or '' (in neither)")
        splits[key.removeprefix("split_") if key != "split" else "default"] = {
            part: [j for j, i in enumerate(kept) if assignment[i] == part]
            for part in SPLIT_NAMES}
    for key in sorted(k for k in arrays if k.startswith("meta_")):
        column = arrays[key]
        if column.shape != (count,):
            raise PrepareError(f"{path}: {key!r} has shape {column.shape}, expected ({count},)")
        for seq, i in zip(sequences, kept, strict=True):
            seq.meta[key.removeprefix("meta_")] = column[i].item()
    if class_names is None:
        class_names = default_class_names(chosen, max((s.label for s in sequences),
                                                      default=-1) + 1)
    notes += label_notes([s.label for s in sequences], class_names)
    notes += zero_frame_notes(sequences)
    dataset = RawDataset(layout=chosen, class_names=class_names, sequences=sequences,
                         splits=splits, notes=notes)
    return dataset, damaged
