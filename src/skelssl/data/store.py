"""The prepared-dataset format on disk: file names, version, padded arrays and meta.json.

Shared by writing (:mod:`skelssl.data.prepare`) and reading (:mod:`skelssl.data.dataset`).
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from skelssl import __version__
from skelssl.data.sequence import RawDataset, Sequence
from skelssl.errors import PrepareError

FORMAT_VERSION = 1
ARRAY_FILES = ("joints.npy", "lengths.npy", "labels.npy")
FRAME_LABELS = "frame_labels.npy"  # (N, T_max) int64, -1 past each length: untrimmed data only
PAD_LABEL = -1


def fill_padded(sequences: list[Sequence], joints: np.ndarray) -> None:
    """Copy each (M, T, V, C) sequence into ``joints[i]`` of shape (C, T_max, V, M_max)."""
    for i, seq in enumerate(tqdm(sequences, desc="writing", unit="seq", disable=None,
                                 dynamic_ncols=True)):
        persons, frames = seq.joints.shape[:2]
        joints[i, :, :frames, :, :persons] = np.transpose(seq.joints, (3, 1, 2, 0))


def padded_frame_labels(sequences: list[Sequence], frames: int) -> np.ndarray:
    """(N, frames) class of every frame, ``PAD_LABEL`` past a sequence's end; a sequence
    without frame labels (mixed in) gets its label on every frame."""
    out = np.full((len(sequences), frames), PAD_LABEL, dtype=np.int64)
    for i, seq in enumerate(sequences):
        out[i, :seq.num_frames] = seq.label if seq.frame_labels is None else seq.frame_labels
    return out


def padded_shape(raw: RawDataset) -> tuple[int, int, int, int, int]:
    """(N, C, T_max, V, M_max) of the prepared arrays for ``raw``."""
    seqs = raw.sequences
    coords = {s.joints.shape[3] for s in seqs}
    if len(coords) > 1:
        raise PrepareError(f"sequences mix {sorted(coords)} coordinates per joint")
    return (len(seqs), coords.pop(), max(s.num_frames for s in seqs), raw.layout.num_joints,
            max(s.joints.shape[0] for s in seqs))


def build_meta(raw: RawDataset, shape: tuple[int, ...]) -> dict[str, Any]:
    """``meta.json`` content, checksums excluded."""
    keys = sorted({k for s in raw.sequences for k in s.meta})
    return {
        "format_version": FORMAT_VERSION,
        "skelssl_version": __version__,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "source": raw.source,
        "layout": raw.layout.to_dict(),
        "class_names": raw.class_names,
        "shape": {"N": shape[0], "C": shape[1], "T": shape[2], "V": shape[3], "M": shape[4]},
        "preprocessing": "none: coordinates as read, zero-padded in frames and persons",
        "splits": raw.splits,
        "samples": {"name": [s.name for s in raw.sequences],
                    "persons": [int((np.abs(s.joints).sum(axis=(1, 2, 3)) > 0).sum())
                                for s in raw.sequences],
                    **{k: [s.meta.get(k) for s in raw.sequences] for k in keys}},
        "skipped": raw.skipped,
        "excluded": raw.excluded,
        "notes": raw.notes,
    }


def file_checksum(path: Path, chunk: int = 1 << 24) -> str:
    """sha256 of a file's bytes."""
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(chunk):
            digest.update(block)
    return digest.hexdigest()
