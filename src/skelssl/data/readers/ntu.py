"""NTU RGB+D 60/120 raw ``.skeleton`` files.

File format (one value group per line): frame count; then per frame the body count; per body
10 info values (body id, clipped edges, hand states, restricted, lean x/y, tracking state),
the joint count, and one line of 12 values per joint (x y z, depth x/y, colour x/y,
orientation w x y z, tracking state). Only x, y, z are kept.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import partial
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
from skelssl.skeleton import NTU25

NAME_PATTERN = re.compile(r"S(\d{3})C(\d{3})P(\d{3})R(\d{3})A(\d{3})")
BODY_INFO_VALUES = 10
JOINT_VALUES = 12
MAX_BODIES_IN_FILE = 4  # Kinect v2 tracks up to 6; the public pipelines read at most 4
PERSONS = 2
MAX_COORDINATE = 100.0  # metres: Kinect v2 sees up to 8 m; anything beyond is damage

NTU60_CLASSES = [
    "drink water", "eat meal/snack", "brushing teeth", "brushing hair", "drop", "pickup",
    "throw", "sitting down", "standing up (from sitting position)", "clapping", "reading",
    "writing", "tear up paper", "wear jacket", "take off jacket", "wear a shoe",
    "take off a shoe", "wear on glasses", "take off glasses", "put on a hat/cap",
    "take off a hat/cap", "cheer up", "hand waving", "kicking something", "reach into pocket",
    "hopping (one foot jumping)", "jump up", "make a phone call/answer phone",
    "playing with phone/tablet", "typing on a keyboard", "pointing to something with finger",
    "taking a selfie", "check time (from watch)", "rub two hands together", "nod head/bow",
    "shake head", "wipe face", "salute", "put the palms together", "cross hands in front",
    "sneeze/cough", "staggering", "falling", "touch head (headache)",
    "touch chest (stomachache/heart pain)", "touch back (backache)", "touch neck (neckache)",
    "nausea or vomiting condition", "use a fan (with hand or paper)/feeling warm",
    "punching/slapping other person", "kicking other person", "pushing other person",
    "pat on back of other person", "point finger at the other person", "hugging other person",
    "giving something to other person", "touch other person's pocket", "handshaking",
    "walking towards each other", "walking apart from each other",
]
NTU120_CLASSES = NTU60_CLASSES + [
    "put on headphone", "take off headphone", "shoot at the basket", "bounce ball",
    "tennis bat swing", "juggling table tennis balls", "hush (quite)", "flick hair",
    "thumb up", "thumb down", "make ok sign", "make victory sign", "staple book",
    "counting money", "cutting nails", "cutting paper (using scissors)", "snapping fingers",
    "open bottle", "sniff (smell)", "squat down", "toss a coin", "fold paper", "ball up paper",
    "play magic cube", "apply cream on face", "apply cream on hand back", "put on bag",
    "take off bag", "put something into a bag", "take something out of a bag", "open a box",
    "move heavy objects", "shake fist", "throw up cap/hat", "hands up (both hands)",
    "cross arms", "arm circles", "arm swings", "running on the spot",
    "butt kicks (kick backward)", "cross toe touch", "side kick", "yawn", "stretch oneself",
    "blow nose", "hit other person with something", "wield knife towards other person",
    "knock over other person (hit with body)", "grab other person's stuff",
    "shoot at other person with a gun", "step on foot", "high-five", "cheers and drink",
    "carry something with other person", "take a photo of other person",
    "follow other person", "whisper in other person's ear", "exchange things with other person",
    "support somebody with hand", "finger-guessing game (playing rock-paper-scissors)",
]
XSUB60_TRAIN_SUBJECTS = frozenset(
    [1, 2, 4, 5, 8, 9, 13, 14, 15, 16, 17, 18, 19, 25, 27, 28, 31, 34, 35, 38])
XSUB120_TRAIN_SUBJECTS = XSUB60_TRAIN_SUBJECTS | frozenset(
    [45, 46, 47, 49, 50, 52, 53, 54, 55, 56, 57, 58, 59, 70, 74, 78, 80, 81, 82, 83, 84, 85,
     86, 89, 91, 92, 93, 94, 95, 97, 98, 100, 103])
XVIEW_TRAIN_CAMERAS = frozenset([2, 3])
NTU60_SETUPS = 17  # NTU-60 is setups 1-17; NTU-120 adds 18-32
BODY_SELECTIONS = ("most-active", "first")


def parse_name(name: str) -> dict[str, int]:
    """Setup, camera, subject (performer), replication and action from an NTU file name."""
    match = NAME_PATTERN.search(name)
    if match is None:
        raise SampleError(name, "file name does not follow the NTU pattern SsssCcccPpppRrrrAaaa")
    setup, camera, subject, replication, action = (int(g) for g in match.groups())
    return {"setup": setup, "camera": camera, "subject": subject,
            "replication": replication, "action": action}


def _count(values: np.ndarray, pos: int, what: str, limit: int, where: str, path: str) -> int:
    if pos >= values.size:
        raise SampleError(path, f"{where}: file ends; expected {what}")
    value = values[pos]
    if not np.isfinite(value) or value != int(value) or not 0 <= value <= limit:
        raise SampleError(path, f"{where}: expected {what} (0..{limit}), found {value}")
    return int(value)


def read_bodies(path: str | Path, num_joints: int = 25,
                max_bodies: int = MAX_BODIES_IN_FILE) -> np.ndarray:
    """All body slots of one file as (max_bodies, T, V, 3) float32, zeros where absent.

    Slot ``b`` holds the ``b``-th body listed in each frame (the 2s-AGCN convention). Raises
    :class:`SampleError` naming the frame, body and joint where the file stops making sense.
    """
    path = str(path)
    try:
        values = np.array(Path(path).read_text().split(), dtype=np.float64)
    except (OSError, UnicodeDecodeError) as error:
        raise SampleError(path, f"cannot read ({error})") from error
    except ValueError as error:
        raise SampleError(path, f"non-numeric value ({error})") from error
    frames = _count(values, 0, "the frame count", 100_000, "line 1", path)
    bodies = np.zeros((max_bodies, frames, num_joints, 3), dtype=np.float32)
    pos = 1
    block = JOINT_VALUES * num_joints
    for f in range(frames):
        frame = f"frame {f + 1} of {frames}"
        count = _count(values, pos, "a body count", 20, frame, path)
        pos += 1
        for b in range(count):
            where = f"{frame}, body {b + 1} of {count}"
            joints = _count(values, pos + BODY_INFO_VALUES, f"{num_joints} joints",
                            10_000, where, path)
            if joints != num_joints:
                raise SampleError(path, f"{where}: {joints} joints, expected {num_joints}")
            pos += BODY_INFO_VALUES + 1
            left = values.size - pos
            if left < block:
                raise SampleError(
                    path, f"{where}: file ends at joint {left // JOINT_VALUES + 1} with "
                          f"{left % JOINT_VALUES} of {JOINT_VALUES} values; expected "
                          f"{num_joints} joints of {JOINT_VALUES} values (truncated file)")
            if b < max_bodies:
                bodies[b, f] = _coordinates(values[pos:pos + block], num_joints, where, path)
            pos += block
    if pos != values.size:
        raise SampleError(path, f"{values.size - pos} unexpected values after frame {frames}")
    return bodies


def _coordinates(block: np.ndarray, num_joints: int, where: str, path: str) -> np.ndarray:
    """x, y, z of one body's joints; a non-finite or absurd coordinate is damage."""
    xyz = block.reshape(num_joints, JOINT_VALUES)[:, :3]
    bad = ~np.isfinite(xyz) | (np.abs(xyz) > MAX_COORDINATE)
    if bad.any():
        joint, axis = np.argwhere(bad)[0]
        raise SampleError(path, f"{where}, joint {joint + 1}: {'xyz'[axis]} = "
                                f"{xyz[joint, axis]}; expected a finite coordinate within "
                                f"±{MAX_COORDINATE:g} m")
    return xyz


def motion_energy(bodies: np.ndarray) -> np.ndarray:
    """Activity of each body slot: Σ over x, y, z of the coordinate std over its present frames."""
    energy = np.zeros(len(bodies))
    for b, body in enumerate(bodies):
        present = body[np.abs(body).sum(axis=(1, 2)) > 0]
        if len(present):
            energy[b] = present.reshape(-1, 3).std(axis=0).sum()
    return energy


def select_bodies(bodies: np.ndarray, keep: int = PERSONS, mode: str = "most-active") -> np.ndarray:
    """Keep ``keep`` body slots: the most active first (2s-AGCN), or simply the first ones."""
    if mode not in BODY_SELECTIONS:
        raise PrepareError(f"body selection {mode!r}: expected one of {BODY_SELECTIONS}")
    order = np.arange(len(bodies))
    if mode == "most-active":
        order = np.argsort(-motion_energy(bodies), kind="stable")
    chosen = bodies[order[:keep]]
    if len(chosen) < keep:
        pad = np.zeros((keep - len(chosen), *bodies.shape[1:]), dtype=bodies.dtype)
        chosen = np.concatenate([chosen, pad])
    return chosen


def read_file(path: str | Path, body_selection: str = "most-active") -> Sequence | None:
    """One NTU sample as a Sequence with 2 persons, or None when no frame holds a body."""
    name = Path(path).stem
    meta = parse_name(name)
    bodies = read_bodies(path)
    present = np.abs(bodies).sum(axis=(2, 3)) > 0  # (slot, T)
    if not present.any():
        return None
    meta["bodies"] = int(present.sum(axis=0).max())
    joints = select_bodies(bodies, PERSONS, body_selection)
    seq = Sequence(name=name, joints=joints, label=meta["action"] - 1, meta=meta)
    return check_sequence(seq, NTU25, str(path))


def ntu_splits(sequences: list[Sequence], version: int) -> dict[str, dict[str, list[int]]]:
    """xsub + xview (NTU-60) or xsub + xset (NTU-120) train/test index lists."""
    subjects = XSUB60_TRAIN_SUBJECTS if version == 60 else XSUB120_TRAIN_SUBJECTS
    rules = {"xsub": lambda m: m["subject"] in subjects}
    if version == 60:
        rules["xview"] = lambda m: m["camera"] in XVIEW_TRAIN_CAMERAS
    else:
        rules["xset"] = lambda m: m["setup"] % 2 == 0
    return rule_splits(sequences, rules)


def _in_version(name: str, version: int) -> bool:
    meta = parse_name(name)
    return version == 120 or (meta["setup"] <= NTU60_SETUPS and meta["action"] <= 60)


def read_exclusion_list(path: str | Path) -> set[str]:
    """Sample names to leave out, one per line (``#`` starts a comment)."""
    names = set()
    for line in Path(path).read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            names.add(Path(line).stem)
    return names


def read_ntu(raw: str | Path, version: int = 60, body_selection: str = "most-active",
             exclude: Iterable[str] = (), workers: int | None = None,
             spill: Spill | None = None) -> tuple[RawDataset, list[SampleError]]:
    """Read every ``.skeleton`` file of NTU-60 or NTU-120 below ``raw``.

    Returns the dataset and the list of damaged files (to report or skip). Samples whose frames
    hold no body at all are left out and listed in ``excluded``, as are names in ``exclude``.
    """
    if version not in (60, 120):
        raise PrepareError(f"NTU version must be 60 or 120, got {version}")
    root = Path(raw)
    if not root.is_dir():
        raise PrepareError(f"NTU raw folder {root} does not exist")
    files = sorted(root.rglob("*.skeleton"), key=lambda p: p.name)
    if not files:
        raise PrepareError(f"no .skeleton files below {root}")
    damaged: list[SampleError] = []
    excluded: list[dict[str, str]] = []
    kept_files = []
    excluded_names = set(exclude)
    for f in files:
        try:
            if not _in_version(f.stem, version):
                continue
        except SampleError as error:
            damaged.append(SampleError(str(f), error.problem))
            continue
        if f.stem in excluded_names:
            excluded.append({"file": f.name, "reason": "in the exclusion list"})
        else:
            kept_files.append(f)
    results = map_files(partial(read_file, body_selection=body_selection), kept_files,
                        workers, desc=f"NTU-{version}", spill=spill)
    sequences = []
    for f, result in zip(kept_files, results, strict=True):
        if isinstance(result, SampleError):
            damaged.append(result)
        elif result is None:
            excluded.append({"file": f.name, "reason": "no skeleton in any frame"})
        else:
            sequences.append(result)
    dataset = RawDataset(
        layout=NTU25,
        class_names=list(NTU60_CLASSES if version == 60 else NTU120_CLASSES),
        sequences=sequences,
        splits=ntu_splits(sequences, version),
        excluded=excluded,
    )
    return dataset, damaged
