"""Preprocessed ``(N, C, T, V, M)`` ``.npy`` arrays with ``.npy`` or ``(names, labels).pkl`` labels.

This is the layout of the ST-GCN / 2s-AGCN / CrosSCLR data generators (``train_data_joint.npy``
+ ``train_label.pkl``).
"""

from __future__ import annotations

from pathlib import Path

from skelssl.data.readers.padded import (
    check_labels,
    default_class_names,
    infer_layout,
    load_labels,
    load_npy,
    sequences_from_padded,
)
from skelssl.data.sequence import RawDataset, Sequence, label_notes, zero_frame_notes
from skelssl.errors import PrepareError, SampleError
from skelssl.skeleton import Layout


def _read_part(data_path: Path, label_path: Path, part: str, layout: str | Layout | None,
               notes: list[str]) -> tuple[Layout, list[Sequence], list[SampleError]]:
    if not data_path.is_file():
        raise PrepareError(f"{part} data file {data_path} does not exist")
    data = load_npy(data_path)
    if data.ndim != 5:
        raise PrepareError(f"{data_path}: shape {data.shape}, expected (N, C, T, V, M)")
    chosen = infer_layout(data.shape[3], layout, str(data_path), notes,
                          channels=data.shape[1])
    names, labels = load_labels(label_path)
    labels = check_labels(labels, data.shape[0], str(label_path))
    if names is None:
        names = [f"{part}_{i:06d}" for i in range(data.shape[0])]
    if len(names) != data.shape[0]:
        raise PrepareError(f"{label_path}: {len(names)} names for {data.shape[0]} samples")
    per_person = data.transpose(0, 4, 2, 3, 1)  # (N, M, T, V, C), still memory-mapped
    sequences, damaged, _ = sequences_from_padded(per_person, labels, names, chosen,
                                                  str(data_path))
    return chosen, sequences, damaged


def read_npy(raw: str | Path, labels: str | Path, test_raw: str | Path | None = None,
             test_labels: str | Path | None = None, layout: str | Layout | None = None,
             benchmark: str = "default") -> tuple[RawDataset, list[SampleError]]:
    """Train (and optionally test) arrays as one dataset with benchmark ``benchmark``."""
    notes: list[str] = []
    chosen, sequences, damaged = _read_part(Path(raw), Path(labels), "train", layout, notes)
    train = list(range(len(sequences)))
    test: list[int] = []
    if test_raw is not None:
        if test_labels is None:
            raise PrepareError("--test-raw needs --test-labels")
        _, test_sequences, test_damaged = _read_part(Path(test_raw), Path(test_labels), "test",
                                                     chosen, notes)
        test = list(range(len(sequences), len(sequences) + len(test_sequences)))
        sequences += test_sequences
        damaged += test_damaged
    num_classes = max((s.label for s in sequences), default=-1) + 1
    class_names = default_class_names(chosen, num_classes)
    notes += label_notes([s.label for s in sequences], class_names)
    notes += zero_frame_notes(sequences)
    dataset = RawDataset(layout=chosen, class_names=class_names, sequences=sequences,
                         splits={benchmark: {"train": train, "test": test}}, notes=notes)
    return dataset, damaged
