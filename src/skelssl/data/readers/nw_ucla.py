"""NW-UCLA Multiview Action3D in the ``all_sqe`` JSON distribution (one file per sequence)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np

from skelssl.data.parallel import map_files
from skelssl.data.sequence import (
    RawDataset,
    SampleError,
    Sequence,
    check_sequence,
    rule_splits,
)
from skelssl.data.spill import Spill
from skelssl.errors import PrepareError
from skelssl.skeleton import UCLA20

NAME_PATTERN = re.compile(r"a(\d+)_s(\d+)_e(\d+)_v(\d+)")
CLASS_NAMES = ["pick up with one hand", "pick up with two hands", "drop trash", "walk around",
               "sit down", "stand up", "donning", "doffing", "throw", "carry"]
TRAIN_VIEWS = frozenset([1, 2])
ACTIONS = (1, 2, 3, 4, 5, 6, 8, 9, 11, 12)  # the action id (aNN) of each label 1..10


def read_file(path: str | Path) -> Sequence:
    """One ``{"file_name", "skeletons": (T, 20, 3), "label": 1..10}`` file as a Sequence."""
    path = Path(path)
    try:
        record = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise SampleError(str(path), f"not a readable JSON file ({error})") from error
    if not isinstance(record, dict) or not {"skeletons", "label"} <= record.keys():
        raise SampleError(str(path), "expected a JSON object with 'skeletons' and 'label'")
    name = path.stem
    match = NAME_PATTERN.fullmatch(name)
    if match is None:
        raise SampleError(str(path), f"name {name!r} does not follow aAA_sSS_eEE_vVV")
    if str(record.get("file_name", name)) != name:
        raise SampleError(str(path), f"its 'file_name' says {record['file_name']!r}, the file "
                                     f"is {name!r}: which view and subject it is is unclear")
    action, subject, episode, view = (int(g) for g in match.groups())
    label = record["label"]
    if isinstance(label, bool) or not isinstance(label, int) or not 1 <= label <= len(ACTIONS):
        raise SampleError(str(path), f"label {label!r}: expected an integer 1..{len(ACTIONS)}")
    if ACTIONS[label - 1] != action:
        raise SampleError(str(path), f"label {label} is action a{ACTIONS[label - 1]:02d}, the "
                                     f"file name says a{action:02d}")
    try:
        with np.errstate(over="ignore"):  # a value beyond float32 becomes inf, reported below
            joints = np.asarray(record["skeletons"], dtype=np.float32)
    except (ValueError, TypeError) as error:
        raise SampleError(str(path), f"'skeletons' is not a (frames, 20, 3) array ({error})") \
            from error
    if joints.ndim != 3 and joints.size == 0:
        raise SampleError(str(path), "sequence has 0 frames")
    if joints.ndim != 3:
        raise SampleError(str(path), f"'skeletons' has shape {joints.shape}, "
                                     "expected (frames, joints, 3)")
    meta = {"action": action, "subject": subject, "episode": episode, "view": view}
    seq = Sequence(name=name, joints=joints[None], label=label - 1, meta=meta)
    return check_sequence(seq, UCLA20, str(path))


def read_nw_ucla(raw: str | Path, workers: int | None = None, spill: Spill | None = None
                 ) -> tuple[RawDataset, list[SampleError]]:
    """All ``*.json`` files of an ``all_sqe`` folder; benchmark ``view3`` (train views 1, 2)."""
    root = Path(raw)
    if not root.is_dir():
        raise PrepareError(f"NW-UCLA folder {root} does not exist")
    files = sorted(root.glob("*.json"))
    if not files:
        raise PrepareError(f"no .json files in {root} (expected the all_sqe folder)")
    results = map_files(read_file, files, workers, desc="NW-UCLA", spill=spill)
    sequences = [r for r in results if isinstance(r, Sequence)]
    damaged = [r for r in results if isinstance(r, SampleError)]
    dataset = RawDataset(
        layout=UCLA20,
        class_names=list(CLASS_NAMES),
        sequences=sequences,
        splits=rule_splits(sequences, {"view3": lambda m: m["view"] in TRAIN_VIEWS}),
    )
    return dataset, damaged
