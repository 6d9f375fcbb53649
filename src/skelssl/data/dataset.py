"""Prepared datasets: memory-mapped on disk or in memory, and torch Datasets over their splits."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset

from skelssl.data.readers.padded import mapped_shortfall
from skelssl.data.sequence import RawDataset
from skelssl.data.store import (
    ARRAY_FILES,
    FORMAT_VERSION,
    FRAME_LABELS,
    build_meta,
    file_checksum,
    fill_padded,
    padded_frame_labels,
    padded_shape,
)
from skelssl.errors import DatasetError
from skelssl.skeleton import Layout, layout_from_dict

VALIDATION, FITTING = "val", "train-val"  # derived splits of every benchmark with a train split
VALIDATION_FRACTION = 0.2
VALIDATION_GROUPS = ("subject", "performer")  # held out whole, in this order of preference


class PreparedDataset:
    """Joints (N, C, T, V, M), valid lengths, labels and metadata of one prepared dataset;
    ``frame_labels`` (N, T), -1 past each length, when it holds untrimmed sequences."""

    def __init__(self, joints: np.ndarray, lengths: np.ndarray, labels: np.ndarray,
                 meta: dict[str, Any], path: Path | None = None,
                 frame_labels: np.ndarray | None = None) -> None:
        self.frame_labels = frame_labels
        self.joints = joints
        self.lengths = lengths
        self.labels = labels
        self.meta = meta
        self.path = path
        self.layout: Layout = layout_from_dict(meta["layout"], source=f"{path or 'dataset'}")

    @property
    def channels(self) -> int:
        """Values per joint: the coordinates (3 for 3-D skeletons, 2 for 2-D keypoints), then
        a detection confidence when the layout says ``scores``."""
        return int(self.joints.shape[1])

    @classmethod
    def open(cls, path: str | Path, verify: bool = False) -> PreparedDataset:
        """Open a prepared dataset directory (joints memory-mapped).

        Always checked (cheap): the files, shapes, labels within the class names, lengths
        within 1..T, split indices within the samples. ``verify`` also checks the sha256
        checksums and that every coordinate is finite (a full read).
        """
        path = Path(path)
        meta_file = path / "meta.json"
        if not meta_file.is_file():
            raise DatasetError(f"{path} is not a prepared dataset (no meta.json); create one "
                               "with `skelssl prepare`")
        try:
            meta = json.loads(meta_file.read_text())
        except (json.JSONDecodeError, UnicodeDecodeError) as error:
            raise DatasetError(f"{meta_file}: not valid JSON ({error})") from error
        if not isinstance(meta, dict):
            raise DatasetError(f"{meta_file}: expected a JSON object")
        version = meta.get("format_version")
        if version != FORMAT_VERSION:
            raise DatasetError(f"{path}: format version {version}, this skelssl reads "
                               f"{FORMAT_VERSION}; prepare the dataset again")
        has_frame_labels = FRAME_LABELS in meta.get("checksum", {})
        for name in ARRAY_FILES + ((FRAME_LABELS,) if has_frame_labels else ()):
            if not (path / name).is_file():
                raise DatasetError(f"{path}: {name} is missing")
        if verify:
            listed = meta.get("checksum", {})
            for name in sorted(set(ARRAY_FILES) | set(listed) - {"algorithm"}):
                if file_checksum(path / name) != listed.get(name):
                    raise DatasetError(f"{path / name}: checksum differs from meta.json "
                                       "(file changed or damaged)")
        try:
            joints = np.load(path / "joints.npy", mmap_mode="r", allow_pickle=False)
            lengths = np.load(path / "lengths.npy", allow_pickle=False)
            labels = np.load(path / "labels.npy", allow_pickle=False)
            frame_labels = (np.load(path / FRAME_LABELS, mmap_mode="r", allow_pickle=False)
                            if has_frame_labels else None)
            shape = tuple(meta["shape"][k] for k in "NCTVM")
        except (ValueError, OSError, EOFError, KeyError, TypeError) as error:
            raise DatasetError(f"{path}: damaged ({type(error).__name__}: {error}); prepare "
                               "the dataset again") from None
        missing = mapped_shortfall(joints, path / "joints.npy")
        if missing:
            raise DatasetError(f"{path / 'joints.npy'}: {missing} bytes shorter than its header "
                               "says (a truncated file); prepare the dataset again")
        if joints.shape != shape or lengths.shape != (shape[0],) or labels.shape != (shape[0],):
            raise DatasetError(f"{path}: array shapes {joints.shape}, {lengths.shape}, "
                               f"{labels.shape} do not match meta.json {shape}")
        if frame_labels is not None and frame_labels.shape != shape[:1] + shape[2:3]:
            raise DatasetError(f"{path / FRAME_LABELS}: shape {frame_labels.shape}, expected "
                               f"(N, T) = {shape[:1] + shape[2:3]}")
        data = cls(joints, lengths, labels, meta, path, frame_labels)
        data.check()
        if verify:
            data.check_values()
        return data

    def check(self) -> None:
        """Labels, lengths and splits consistent with the arrays (cheap)."""
        where = self.path or "dataset"
        n, frames = len(self.labels), self.joints.shape[2]
        problems = []
        bad = np.flatnonzero((self.labels < 0) | (self.labels >= self.num_classes))
        if bad.size:
            problems.append(f"label {self.labels[bad[0]]} of sample {bad[0]} is outside "
                            f"0..{self.num_classes - 1} (the class names)")
        bad = np.flatnonzero((self.lengths < 1) | (self.lengths > frames))
        if bad.size:
            problems.append(f"length {self.lengths[bad[0]]} of sample {bad[0]} is outside "
                            f"1..{frames}")
        for benchmark, parts in self.splits.items():
            for split, index in parts.items():
                if any(not isinstance(i, int) or not 0 <= i < n for i in index):
                    problems.append(f"split {benchmark}/{split} names samples outside 0..{n - 1}")
        if problems:
            raise DatasetError(f"{where}: damaged: {'; '.join(problems)}; prepare the dataset "
                               "again")

    def check_values(self, chunk: int = 256) -> None:
        """Every coordinate finite (reads the whole joints array)."""
        for start in range(0, len(self), chunk):
            block = np.asarray(self.joints[start:start + chunk])
            if not np.isfinite(block).all():
                sample = start + int(np.flatnonzero(~np.isfinite(block).reshape(
                    len(block), -1).all(axis=1))[0])
                raise DatasetError(f"{self.path}: sample {sample} ({self.names[sample]}) holds "
                                   "non-finite coordinates; prepare the dataset again")

    @classmethod
    def from_raw(cls, raw: RawDataset) -> PreparedDataset:
        """The same dataset as ``write_prepared`` would give, held in memory."""
        shape = padded_shape(raw)
        joints = np.zeros(shape, dtype=np.float32)
        fill_padded(raw.sequences, joints)
        lengths = np.array([s.num_frames for s in raw.sequences], np.int64)
        labels = np.array([s.label for s in raw.sequences], np.int64)
        frame_labels = (padded_frame_labels(raw.sequences, shape[2])
                        if any(s.frame_labels is not None for s in raw.sequences) else None)
        return cls(joints, lengths, labels, build_meta(raw, shape), frame_labels=frame_labels)

    def __len__(self) -> int:
        return len(self.labels)

    @property
    def class_names(self) -> list[str]:
        return list(self.meta["class_names"])

    @property
    def num_classes(self) -> int:
        return len(self.meta["class_names"])

    @property
    def splits(self) -> dict[str, dict[str, list[int]]]:
        return self.meta["splits"]

    @property
    def names(self) -> list[str]:
        return self.meta["samples"]["name"]

    def indices(self, benchmark: str | None = None, split: str | None = None) -> np.ndarray:
        """Sample indices of ``benchmark``/``split``; all samples when both are None.

        Besides the dataset's own splits, every benchmark with a ``train`` split has ``val``
        (a held-out part of it, see :meth:`validation`) and ``train-val`` (the rest).
        """
        if benchmark is None and split is None:
            return np.arange(len(self))
        if benchmark is None and len(self.splits) == 1:
            benchmark = next(iter(self.splits))
        if benchmark not in self.splits:
            raise DatasetError(f"benchmark {benchmark!r} not in this dataset; it has "
                               f"{sorted(self.splits) or 'no benchmarks'}")
        parts = self.splits[benchmark]
        if split in (VALIDATION, FITTING) and split not in parts and "train" in parts:
            fit, val, _ = self.validation(benchmark)
            return val if split == VALIDATION else fit
        if split not in parts:
            extra = [VALIDATION, FITTING] if "train" in parts else []
            raise DatasetError(f"split {split!r} not in benchmark {benchmark!r}; it has "
                               f"{sorted([*parts, *extra])}")
        return np.asarray(parts[split], dtype=np.int64)

    def validation(self, benchmark: str | None) -> tuple[np.ndarray, np.ndarray, list[Any]]:
        """The training split cut into (fit, val, held-out groups): ``val`` holds the training
        samples of a fixed 20 % of the subjects present in the training split (a seeded
        permutation, seed 0), so that choices made on it never see the test split and never
        see a validation subject in training; without subject metadata, a fixed 20 % of the
        samples."""
        train = self.indices(benchmark, "train")
        samples = self.meta.get("samples", {})
        key = next((k for k in VALIDATION_GROUPS if k in samples), None)
        groups = train if key is None else np.asarray(samples[key])[train]
        distinct = np.unique(groups)
        count = max(1, int(round(VALIDATION_FRACTION * len(distinct))))
        held = np.random.default_rng(0).permutation(distinct)[:count]
        in_val = np.isin(groups, held)
        return train[~in_val], train[in_val], sorted(held.tolist())

    def subset(self, benchmark: str | None = None, split: str | None = None,
               label_fraction: float = 1.0, seed: int = 0) -> SkeletonDataset:
        """A torch Dataset over one split, optionally a class-balanced labelled fraction."""
        index = self.indices(benchmark, split)
        if label_fraction < 1.0:
            index = index[label_fraction_indices(self.labels[index], label_fraction, seed)]
        return SkeletonDataset(self, index)


def label_fraction_indices(labels: np.ndarray, fraction: float, seed: int = 0) -> np.ndarray:
    """Positions of a class-balanced subset: round(fraction·n_c) samples of each class (≥ 1).

    The draw is fixed by ``seed``; positions are returned sorted.
    """
    if not 0.0 < fraction <= 1.0:
        raise ValueError(f"label fraction must be in (0, 1], got {fraction}")
    rng = np.random.default_rng(seed)
    chosen = []
    for label in np.unique(labels):
        members = np.flatnonzero(labels == label)
        count = min(len(members), max(1, int(round(fraction * len(members)))))
        chosen.append(rng.choice(members, size=count, replace=False))
    return np.sort(np.concatenate(chosen))


class SkeletonDataset(Dataset):
    """Items ``(x[C, T, V, M] float32, length, label, index)`` of some samples of a dataset."""

    def __init__(self, data: PreparedDataset, index: np.ndarray) -> None:
        self.data = data
        self.index = np.asarray(index, dtype=np.int64)

    def __len__(self) -> int:
        return len(self.index)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, int, int, int]:
        j = int(self.index[i])
        x = torch.from_numpy(np.array(self.data.joints[j], dtype=np.float32))
        return x, int(self.data.lengths[j]), int(self.data.labels[j]), j

    @property
    def labels(self) -> np.ndarray:
        return self.data.labels[self.index]
