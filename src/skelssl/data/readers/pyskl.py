"""pyskl / MMAction2 skeleton annotation files: 2-D (or 3-D) keypoints from a pose estimator.

A pickled dict ``{"split": {"xsub_train": [frame_dir, ...], "xsub_val": [...], ...},
"annotations": [{"frame_dir", "label", "keypoint": (M, T, V, C), "keypoint_score": (M, T, V),
"total_frames", "img_shape"}, ...]}``. It is read with an unpickler that builds only lists,
dicts, strings, numbers and NumPy arrays, never code. Split names ``<benchmark>_train`` and
``<benchmark>_val`` (or ``_test``) become benchmark ``<benchmark>``; bare ``train`` / ``val``
become ``default``. Keypoints with a score of 0 (undetected) are zeroed; with ``scores`` the
confidence is kept as a last channel of every joint (x, y, score), which geometric transforms
leave as it is and the encoder reads.
"""

from __future__ import annotations

import pickle
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from skelssl.data.readers.padded import PlainUnpickler, infer_layout
from skelssl.data.sequence import RawDataset, SampleError, Sequence, check_sequence, label_notes
from skelssl.errors import PrepareError

TEST_PARTS = ("val", "test")


def load_annotations(path: Path) -> dict[str, Any]:
    """The pickled annotation dict, read without running any code."""
    if not path.is_file():
        raise PrepareError(f"annotation file {path} does not exist")
    with path.open("rb") as f:
        try:
            content = PlainUnpickler(f).load()
        except (pickle.UnpicklingError, EOFError, AttributeError, ValueError) as error:
            raise PrepareError(f"{path}: not a pyskl annotation pickle ({error})") from None
    if isinstance(content, list):
        content = {"annotations": content, "split": {}}
    if not isinstance(content, dict) or not isinstance(content.get("annotations"), list):
        raise PrepareError(f"{path}: expected a dict with an 'annotations' list")
    return content


def read_annotation(record: Any, index: int, source: str, scores: bool = False
                    ) -> tuple[str, np.ndarray, int]:
    """(name, joints (M, T, V, C), label) of one annotation dict; with ``scores`` the last of
    the C channels is the keypoint confidence."""
    where = f"{source}, annotation {index}"
    if not isinstance(record, dict) or "keypoint" not in record or "label" not in record:
        raise SampleError(where, "expected a dict with 'keypoint' and 'label'")
    name = str(record.get("frame_dir", f"sample_{index:06d}"))
    joints = np.asarray(record["keypoint"], dtype=np.float32)
    if joints.ndim != 4:
        raise SampleError(f"{where} ({name})", f"'keypoint' has shape {joints.shape}, expected "
                                               "(persons, frames, joints, coordinates)")
    score = record.get("keypoint_score")
    if score is not None:
        score = np.asarray(score, dtype=np.float32)
        if score.shape != joints.shape[:3]:
            raise SampleError(f"{where} ({name})", f"'keypoint_score' has shape {score.shape}, "
                                                   f"expected {joints.shape[:3]}")
        joints = joints * (score > 0)[..., None]
        if scores:
            joints = np.concatenate([joints, score[..., None]], axis=-1)
    elif scores:
        raise SampleError(f"{where} ({name})", "no 'keypoint_score', but --scores asks to keep "
                                               "the confidence")
    label = record["label"]
    if isinstance(label, bool) or not isinstance(label, (int, np.integer)) or label < 0:
        raise SampleError(f"{where} ({name})", f"label {label!r}: expected an integer ≥ 0")
    return name, joints, int(label)


def split_lists(split: Any, names: list[str], source: str) -> dict[str, dict[str, list[int]]]:
    """Benchmarks from pyskl's split dict (names listed there → sample indices)."""
    if not isinstance(split, dict):
        raise PrepareError(f"{source}: 'split' must be a dict of name lists")
    position = {n: i for i, n in enumerate(names)}
    out: dict[str, dict[str, list[int]]] = {}
    for key, members in split.items():
        benchmark, _, part = str(key).rpartition("_")
        benchmark = benchmark or "default"
        if part not in ("train", *TEST_PARTS):
            raise PrepareError(f"{source}: split {key!r}: expected <benchmark>_train or "
                               "<benchmark>_val / _test")
        unknown = [m for m in members if str(m) not in position]
        if unknown:
            raise PrepareError(f"{source}: split {key!r} names {unknown[0]!r}, which has no "
                               "annotation")
        target = "train" if part == "train" else "test"
        out.setdefault(benchmark, {"train": [], "test": []})[target] = sorted(
            position[str(m)] for m in members)
    return out


def read_pyskl(raw: str | Path, layout: str | None = None, scores: bool = False
               ) -> tuple[RawDataset, list[SampleError]]:
    """Every annotation of a pyskl file; the layout from ``--layout`` or the joint count;
    ``scores`` keeps the keypoint confidence as a last channel."""
    path = Path(raw)
    content = load_annotations(path)
    damaged: list[SampleError] = []
    read = []
    for i, record in enumerate(content["annotations"]):
        try:
            read.append(read_annotation(record, i, str(path), scores))
        except SampleError as error:
            damaged.append(error)
    if not read:
        raise PrepareError(f"{path}: no usable annotation")
    notes: list[str] = []
    first = read[0][1]
    chosen = infer_layout(first.shape[2], layout, str(path), notes,
                          f"'keypoint' of shape {first.shape} read as (M, T, V, C)",
                          first.shape[3] - scores)
    chosen = replace(chosen, scores=scores)
    sequences = []
    for i, (name, joints, label) in enumerate(read):
        try:
            sequences.append(check_sequence(Sequence(name, joints, label), chosen,
                                            f"{path}, annotation {i} ({name})"))
        except SampleError as error:
            damaged.append(error)
    names = [s.name for s in sequences]
    if len(set(names)) != len(names):
        raise PrepareError(f"{path}: 'frame_dir' names are not unique")
    classes = [f"class_{c}" for c in range(max(s.label for s in sequences) + 1)]
    dataset = RawDataset(layout=chosen, class_names=classes, sequences=sequences,
                         splits=split_lists(content.get("split", {}), names, str(path)),
                         notes=notes + label_notes([s.label for s in sequences], classes))
    return dataset, damaged
