"""CTR-GCN-style ``.npz``: ``x_train``/``x_test`` of shape (N, T, M·V·C) and one-hot ``y_*``.

For NTU this is (N, 300, 150): 2 persons × 25 joints × 3 coordinates per frame.
"""

from __future__ import annotations

from pathlib import Path

from skelssl.data.readers.padded import (
    check_labels,
    default_class_names,
    load_npz,
    sequences_from_padded,
)
from skelssl.data.sequence import RawDataset, Sequence, label_notes, zero_frame_notes
from skelssl.errors import PrepareError, SampleError
from skelssl.skeleton import Layout, load_layout

KEYS = ("x_train", "y_train", "x_test", "y_test")


def read_ctrgcn_npz(raw: str | Path, layout: str | Layout = "ntu25", coords: int = 3,
                    benchmark: str = "default") -> tuple[RawDataset, list[SampleError]]:
    """Both parts of one ``.npz`` file; the benchmark is named ``benchmark``."""
    path = Path(raw)
    if not path.is_file():
        raise PrepareError(f"CTR-GCN .npz file {path} does not exist")
    chosen = load_layout(layout)
    arrays = load_npz(path)
    missing = [k for k in KEYS if k not in arrays]
    if missing:
        raise PrepareError(f"{path}: missing arrays {missing}; found {sorted(arrays)}")
    parts = {k: arrays[k] for k in KEYS}
    sequences: list[Sequence] = []
    damaged: list[SampleError] = []
    splits: dict[str, list[int]] = {}
    for part in ("train", "test"):
        x = parts[f"x_{part}"]
        if x.ndim != 3 or x.shape[2] % (chosen.num_joints * coords):
            raise PrepareError(f"{path}: x_{part} has shape {x.shape}, expected (N, T, M·"
                               f"{chosen.num_joints}·{coords}) for layout {chosen.name!r}")
        persons = x.shape[2] // (chosen.num_joints * coords)
        per_person = x.reshape(x.shape[0], x.shape[1], persons, chosen.num_joints, coords)
        labels = check_labels(parts[f"y_{part}"], x.shape[0], f"{path} y_{part}")
        names = [f"{part}_{i:06d}" for i in range(x.shape[0])]
        found, bad, _ = sequences_from_padded(per_person.transpose(0, 2, 1, 3, 4), labels, names,
                                           chosen, f"{path} x_{part}")
        splits[part] = list(range(len(sequences), len(sequences) + len(found)))
        sequences += found
        damaged += bad
    num_classes = max(parts["y_train"].shape[1] if parts["y_train"].ndim == 2 else 0,
                      max((s.label for s in sequences), default=-1) + 1)
    class_names = default_class_names(chosen, num_classes)
    notes = label_notes([s.label for s in sequences], class_names) + zero_frame_notes(sequences)
    dataset = RawDataset(layout=chosen, class_names=class_names, sequences=sequences,
                         splits={benchmark: splits}, notes=notes)
    return dataset, damaged
