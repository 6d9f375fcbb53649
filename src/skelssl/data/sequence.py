"""What every reader returns: sequences with per-person joints, labels and metadata."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from skelssl.errors import SampleError
from skelssl.skeleton import Layout

MAX_COORDINATE = 1e5  # beyond any skeleton in metres, millimetres or pixels: damage


@dataclass
class Sequence:
    """One skeleton sequence: ``joints`` is (M persons, T frames, V joints, C coordinates);
    ``frame_labels`` (T,) class per frame, for untrimmed sequences (segmentation)."""

    name: str
    joints: np.ndarray
    label: int
    meta: dict[str, Any] = field(default_factory=dict)
    frame_labels: np.ndarray | None = None

    @property
    def num_frames(self) -> int:
        return int(self.joints.shape[1])


@dataclass
class RawDataset:
    """Sequences read from a raw source, before they are written as a prepared dataset.

    ``splits`` maps a benchmark name (``xsub``, ``xview``, ``view3``, ...) to its ``train`` and
    ``test`` index lists. ``skipped`` lists damaged samples left out with ``--skip-damaged``;
    ``excluded`` lists samples left out by design (e.g. NTU files without any skeleton);
    ``notes`` are what the user should know about how the data was read (an inferred layout,
    classes without samples, all-zero frames inside sequences).
    """

    layout: Layout
    class_names: list[str]
    sequences: list[Sequence]
    splits: dict[str, dict[str, list[int]]]
    source: dict[str, Any] = field(default_factory=dict)
    skipped: list[dict[str, str]] = field(default_factory=list)
    excluded: list[dict[str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def rule_splits(sequences: list[Sequence],
                rules: Mapping[str, Callable[[dict[str, Any]], bool]]
                ) -> dict[str, dict[str, list[int]]]:
    """Train/test index lists per benchmark; ``rules[benchmark](meta)`` is True for training."""
    splits = {}
    for benchmark, is_train in rules.items():
        flags = [is_train(s.meta) for s in sequences]
        splits[benchmark] = {"train": [i for i, f in enumerate(flags) if f],
                             "test": [i for i, f in enumerate(flags) if not f]}
    return splits


def check_sequence(seq: Sequence, layout: Layout, source: str) -> Sequence:
    """Validate shape and values of one sequence and return it as float32 (M, T, V, C).

    Raises :class:`SampleError` naming ``source`` for a wrong rank, a joint count that differs
    from the layout, zero frames, an unusual coordinate count, a NaN/inf value, a coordinate
    beyond ±1e5, or no non-zero coordinate at all.
    """
    joints = np.asarray(seq.joints)
    if joints.ndim != 4:
        raise SampleError(source, f"expected joints of shape (persons, frames, joints, coords), "
                                  f"got shape {joints.shape}")
    persons, frames, num_joints, coords = joints.shape
    if num_joints != layout.num_joints:
        raise SampleError(source, f"joints of shape {joints.shape} read as (persons, frames, "
                                  f"joints, coordinates): {num_joints} joints per frame, but "
                                  f"layout {layout.name!r} has {layout.num_joints} (are the axes "
                                  "in another order?)")
    if frames == 0:
        raise SampleError(source, "sequence has 0 frames")
    if persons == 0:
        raise SampleError(source, "sequence has no person")
    if layout.coordinates(coords) not in (2, 3):
        raise SampleError(source, "expected 2 or 3 coordinates per joint"
                          + (" and a confidence" if layout.scores else "") + f", got {coords} "
                          "values")
    finite = np.isfinite(joints)
    if not finite.all():
        m, t, v, c = np.argwhere(~finite)[0]
        value = joints[m, t, v, c]
        raise SampleError(source, f"{value} at frame {t + 1}, joint {v + 1} "
                                  f"({layout.joint_names[v]}), person {m + 1}: "
                                  "expected finite coordinates")
    if not joints.any():
        raise SampleError(source, "every coordinate is zero: no person in any frame")
    if seq.frame_labels is not None and seq.frame_labels.shape != (frames,):
        raise SampleError(source, f"{seq.frame_labels.shape} frame labels for {frames} frames")
    huge = np.abs(joints) > MAX_COORDINATE
    if huge.any():
        m, t, v, c = np.argwhere(huge)[0]
        raise SampleError(source, f"{joints[m, t, v, c]} at frame {t + 1}, joint {v + 1} "
                                  f"({layout.joint_names[v]}), person {m + 1}: beyond "
                                  f"±{MAX_COORDINATE:g}, a damaged value")
    seq.joints = joints.astype(np.float32, copy=False)
    return seq


def valid_length(joints: np.ndarray) -> int:
    """The one length rule for padded data: frames up to the last one with any non-zero
    coordinate (trailing all-zero frames are padding); ``joints`` is (M, T, V, C)."""
    nonzero = np.flatnonzero((joints != 0).any(axis=(0, 2, 3)))  # NaN counts as a value
    return int(nonzero[-1]) + 1 if nonzero.size else 0


def zero_frame_notes(sequences: list[Sequence]) -> list[str]:
    """A note when sequences hold all-zero frames before their last frame (kept as they are:
    an untracked moment), and how many."""
    counts = [int((~(s.joints != 0).any(axis=(0, 2, 3))).sum()) for s in sequences]
    holding = sum(1 for c in counts if c)
    if not holding:
        return []
    return [f"{holding} sequences hold all-zero frames before their last frame ({sum(counts)} "
            "frames in all); they are kept (a person untracked for a moment)"]


def label_notes(labels: list[int], class_names: list[str]) -> list[str]:
    """What to tell the user about classes without samples (e.g. 1-based labels)."""
    present = set(labels)
    empty = [c for c in range(len(class_names)) if c not in present]
    if not empty:
        return []
    notes = [f"{len(empty)} of {len(class_names)} classes have no sample: "
             f"{', '.join(class_names[c] for c in empty[:8])}{' ...' if len(empty) > 8 else ''}"]
    if empty == [0] and present and min(present) == 1:
        notes.append("class 0 is empty and the labels start at 1: skelssl expects 0-based "
                     "class indices (subtract 1 from the labels)")
    return notes
