"""PKU-MMD Part I and Part II: untrimmed skeleton text files with action interval labels.

Skeleton file ``<sequence>-<view>.txt`` (view L, M or R): one frame per line, 150 numbers =
2 persons × 25 joints (NTU order) × x, y, z; the second person is zeros when absent. Label file
of the same name: one action per line, ``action_id, start_frame, end_frame, confidence``. A
clip is frames ``start .. end - 1`` (0-based, end exclusive, as the public pipelines slice).
Split files (``cross-subject.txt``, ``cross-view.txt``) list the training and the validation
(test) sequences after the lines ``Training videos:`` and ``Validataion videos:``.
"""

from __future__ import annotations

import re
from collections import Counter
from functools import partial
from pathlib import Path

import numpy as np

from skelssl.data.parallel import map_files
from skelssl.data.sequence import RawDataset, SampleError, Sequence, check_sequence
from skelssl.data.spill import Spill
from skelssl.errors import PrepareError
from skelssl.skeleton import NTU25

PERSONS, JOINTS = 2, 25
VALUES_PER_FRAME = PERSONS * JOINTS * 3
VIEWS = {"L": 1, "M": 2, "R": 3}
NAME_PATTERN = re.compile(r"(?P<sequence>.+)-(?P<view>[LMR])")
SECTION = re.compile(r"^\s*(training|validataion|validation|testing|test)\s+videos\s*:",
                     re.IGNORECASE | re.MULTILINE)
BACKGROUND = "background"


def numbered_lines(path: Path) -> list[tuple[int, str]]:
    """(1-based line number, line) of every non-blank line of a text file."""
    try:
        lines = path.read_text().splitlines()
    except (OSError, UnicodeDecodeError) as error:
        raise SampleError(str(path), f"cannot read ({error})") from error
    return [(n, line) for n, line in enumerate(lines, start=1) if line.strip()]


def read_skeleton(path: str | Path) -> np.ndarray:
    """One skeleton file as (2 persons, T, 25, 3) float32."""
    path = Path(path)
    rows = []
    for number, line in numbered_lines(path):
        try:
            values = np.array(line.replace(",", " ").split(), dtype=np.float32)
        except ValueError as error:
            raise SampleError(str(path), f"line {number}: non-numeric value ({error})") from None
        if values.size != VALUES_PER_FRAME:
            raise SampleError(str(path), f"line {number}: {values.size} values, expected "
                                         f"{VALUES_PER_FRAME} (2 persons × 25 joints × xyz)")
        rows.append(values)
    if not rows:
        raise SampleError(str(path), "no frame (an empty file)")
    frames = np.stack(rows).reshape(len(rows), PERSONS, JOINTS, 3)
    return np.ascontiguousarray(frames.transpose(1, 0, 2, 3))


def read_intervals(path: str | Path, frames: int) -> list[tuple[int, int, int, int]]:
    """``(action, start, end, confidence)`` per line, sorted by start; an interval outside
    ``0..frames``, an empty one or two that overlap is damage naming the lines."""
    path = Path(path)
    intervals = []
    for number, line in numbered_lines(path):
        fields = [f.strip() for f in line.split(",")]
        if len(fields) != 4 or not all(re.fullmatch(r"-?\d+", f) for f in fields):
            raise SampleError(str(path), f"line {number}: {line.strip()!r}, expected four "
                                         "integers 'action, start, end, confidence'")
        action, start, end, confidence = (int(f) for f in fields)
        if action < 1:
            raise SampleError(str(path), f"line {number}: action {action}, expected ≥ 1")
        if not 0 <= start < end <= frames:
            raise SampleError(str(path), f"line {number}: frames {start}..{end} are empty or "
                                         f"outside the sequence's 0..{frames}")
        intervals.append((start, end, action, confidence, number))
    if not intervals:
        raise SampleError(str(path), "no action interval")
    intervals.sort()
    for previous, current in zip(intervals, intervals[1:], strict=False):
        if current[0] < previous[1]:
            raise SampleError(str(path), f"line {current[4]} (frames {current[0]}..{current[1]})"
                                         f" overlaps line {previous[4]} (frames {previous[0]}.."
                                         f"{previous[1]})")
    return [(a, s, e, c) for s, e, a, c, _ in intervals]


def read_split(path: str | Path) -> tuple[set[str], set[str]]:
    """Training and test sequence names of one official split file."""
    path = Path(path)
    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError) as error:
        raise PrepareError(f"split file {path}: cannot read ({error})") from None
    sections = list(SECTION.finditer(text))
    kinds = [m.group(1).lower().startswith("train") for m in sections]
    if kinds.count(True) != 1 or kinds.count(False) != 1:
        raise PrepareError(f"split file {path}: expected one 'Training videos:' and one "
                           "'Validataion videos:' (or 'Validation'/'Testing') section")
    names: dict[bool, set[str]] = {}
    for i, match in enumerate(sections):
        end = sections[i + 1].start() if i + 1 < len(sections) else len(text)
        body = text[match.end():end]
        names[kinds[i]] = {n.strip() for n in re.split(r"[,\s]+", body) if n.strip()}
    both = names[True] & names[False]
    if both:
        raise PrepareError(f"split file {path}: {sorted(both)[0]} is both a training and a "
                           "test sequence")
    return names[True], names[False]


def read_sequence(files: tuple[Path, Path], untrimmed: bool = False) -> list[Sequence]:
    """The clips of one sequence (or the whole sequence with per-frame action ids)."""
    skeleton_file, label_file = files
    match = NAME_PATTERN.fullmatch(skeleton_file.stem)
    if match is None:
        raise SampleError(str(skeleton_file), "name does not end in -L, -M or -R (the view)")
    joints = read_skeleton(skeleton_file)
    intervals = read_intervals(label_file, joints.shape[1])
    meta = {"sequence": match["sequence"], "view": VIEWS[match["view"]]}
    if untrimmed:
        frame_actions = np.zeros(joints.shape[1], dtype=np.int64)
        for action, start, end, _ in intervals:
            frame_actions[start:end] = action
        seq = Sequence(skeleton_file.stem, joints, 0, {**meta, "actions": len(intervals)},
                       frame_labels=frame_actions)
        return [check_sequence(seq, NTU25, str(skeleton_file))]
    clips = []
    for number, (action, start, end, confidence) in enumerate(intervals, start=1):
        clip = Sequence(f"{skeleton_file.stem}_{number:02d}", joints[:, start:end].copy(), action,
                        {**meta, "start": start, "end": end, "confidence": confidence})
        clips.append(check_sequence(clip, NTU25, f"{label_file}, line {number}"))
    return clips


def read_class_names(path: str | Path | None, actions: list[int]) -> list[str]:
    """Names of ``actions`` (sorted ids): from a file of ``id,name`` lines (Actions.xlsx saved
    as CSV) when given, else ``A01``, ``A02``, ..."""
    if path is None:
        return [f"A{a:02d}" for a in actions]
    names = {}
    for number, line in enumerate(Path(path).read_text().splitlines(), start=1):
        fields = [f.strip() for f in line.split(",", 1)]
        if len(fields) == 2 and fields[0].isdigit():
            names[int(fields[0])] = fields[1]
        elif line.strip() and number > 1:  # the first line may be a header
            raise PrepareError(f"{path}, line {number}: expected 'id,name'")
    missing = [a for a in actions if a not in names]
    if missing:
        raise PrepareError(f"{path}: no name for action id {missing[0]}")
    return [names[a] for a in actions]


def pair_files(raw: Path, labels: Path) -> list[tuple[Path, Path]]:
    """(skeleton file, label file) of every sequence; a skeleton without labels is an error."""
    for folder, what in ((raw, "skeleton"), (labels, "label")):
        if not folder.is_dir():
            raise PrepareError(f"PKU-MMD {what} folder {folder} does not exist")
    skeletons = sorted(raw.glob("*.txt"))
    if not skeletons:
        raise PrepareError(f"no .txt skeleton files in {raw}")
    missing = [s.name for s in skeletons if not (labels / s.name).is_file()]
    if missing:
        raise PrepareError(f"{labels}: no label file for {len(missing)} skeleton files, e.g. "
                           f"{missing[0]}")
    return [(s, labels / s.name) for s in skeletons]


def read_pku_mmd(raw: str | Path, labels: str | Path, split_files: dict[str, Path],
                 untrimmed: bool = False, class_names: Path | None = None,
                 workers: int | None = None, spill: Spill | None = None
                 ) -> tuple[RawDataset, list[SampleError]]:
    """Every sequence of a PKU-MMD part; one benchmark per split file (``xsub``, ``xview``).

    Classes are the action ids found in the label files, in order (Part I: 51, Part II: 41).
    ``untrimmed`` keeps whole sequences with per-frame labels (class 0 = background) for
    segmentation; otherwise every labelled interval is one clip.
    """
    files = pair_files(Path(raw), Path(labels))
    splits = {name: read_split(path) for name, path in split_files.items()}
    results = map_files(partial(read_sequence, untrimmed=untrimmed), files, workers,
                        desc="PKU-MMD", spill=spill)
    damaged = [r for r in results if isinstance(r, SampleError)]
    sequences = [s for r in results if not isinstance(r, SampleError) for s in r]
    ids = sorted({int(a) for s in sequences for a in (
        np.unique(s.frame_labels[s.frame_labels > 0]) if s.frame_labels is not None
        else [s.label])})
    names = read_class_names(class_names, ids)
    index = {a: i for i, a in enumerate(ids)}
    if untrimmed:
        names = [BACKGROUND, *names]
        lookup = np.zeros(max(ids, default=0) + 1, dtype=np.int64)
        lookup[ids] = np.arange(1, len(ids) + 1)
        for seq in sequences:
            assert seq.frame_labels is not None
            seq.frame_labels = lookup[seq.frame_labels]
            seq.label = Counter(seq.frame_labels.tolist()).most_common(1)[0][0]
    else:
        for seq in sequences:
            seq.meta["action"] = seq.label
            seq.label = index[seq.label]
    dataset = RawDataset(layout=NTU25, class_names=names, sequences=sequences,
                         splits=sequence_splits(sequences, splits))
    return dataset, damaged


def sequence_splits(sequences: list[Sequence], splits: dict[str, tuple[set[str], set[str]]]
                    ) -> dict[str, dict[str, list[int]]]:
    """Train/test index lists per benchmark; a sequence in neither list stays out of both."""
    out = {}
    source = [f"{s.meta['sequence']}-{'LMR'[s.meta['view'] - 1]}" for s in sequences]
    for benchmark, (train, test) in splits.items():
        out[benchmark] = {"train": [i for i, n in enumerate(source) if n in train],
                          "test": [i for i, n in enumerate(source) if n in test]}
    return out
