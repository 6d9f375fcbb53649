"""Acclaim motion capture: ASF skeletons and AMC motions → joint positions (CMU mocap).

ASF (one per subject): ``:units`` (``length`` multiplier, ``angle deg|rad``), ``:root`` (the
``order`` of the root's AMC values, its ``axis`` order and ``orientation``), ``:bonedata``
(per bone: ``name``, unit ``direction`` in the rest pose, ``length``, ``axis`` angles with
their order, ``dof``) and ``:hierarchy`` (``parent child ...`` lines). AMC: a frame number line,
then one ``bone value ...`` line per bone with degrees of freedom, values in its ``dof`` order.

Forward kinematics: a bone's global rotation is R = R_parent · C · M · C⁻¹, where C is the
rotation of its ``axis`` angles and M that of its AMC values, and its end lies at p_parent +
R · (length · direction). A rotation listed in the order a₁ a₂ a₃ is R_a₃ · R_a₂ · R_a₁ (the
first listed axis is applied first). Joint v is the root or the end of bone v; positions are
in metres, reading lengths as inches divided by ``:units length`` (the CMU convention).
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import numpy as np

from skelssl.data.parallel import map_files
from skelssl.data.sequence import RawDataset, SampleError, Sequence, check_sequence
from skelssl.data.spill import Spill
from skelssl.errors import PrepareError
from skelssl.skeleton import CMU31, Layout

INCH = 0.0254
AXES = "xyz"


@dataclass
class Bone:
    """One ASF bone: rest direction (unit), length, axis rotation C and degrees of freedom."""

    name: str
    direction: np.ndarray
    length: float
    axis_angles: np.ndarray  # in the file's angle unit
    axis_order: str
    dof: list[str] = field(default_factory=list)
    parent: str = "root"


@dataclass
class Skeleton:
    """An ASF file: root settings, bones in file order, and the unit conversions."""

    root_order: list[str]
    root_axis: np.ndarray  # C of the root, (3, 3)
    bones: dict[str, Bone]
    metres: float  # one length unit of the file in metres
    radians: float  # one angle unit of the file in radians

    @property
    def joint_names(self) -> list[str]:
        return ["root", *self.bones]


def euler(angles: np.ndarray, order: str) -> np.ndarray:
    """Rotation matrices (..., 3, 3) for ``angles`` (..., k) in radians about the axes of
    ``order`` (e.g. "xyz"), the first listed axis applied first."""
    out = np.broadcast_to(np.eye(3), (*angles.shape[:-1], 3, 3)).copy()
    for i, axis in enumerate(order.lower()):
        c, s = np.cos(angles[..., i]), np.sin(angles[..., i])
        r = np.zeros((*angles.shape[:-1], 3, 3))
        a = AXES.index(axis)
        b, d = (a + 1) % 3, (a + 2) % 3
        r[..., a, a] = 1
        r[..., b, b], r[..., b, d], r[..., d, b], r[..., d, d] = c, -s, s, c
        out = r @ out
    return out


def _lines(path: Path) -> list[tuple[int, list[str]]]:
    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError) as error:
        raise SampleError(str(path), f"cannot read ({error})") from error
    return [(n, line.split("#", 1)[0].split()) for n, line in enumerate(text.splitlines(), 1)
            if line.split("#", 1)[0].strip()]


def _numbers(path: Path, number: int, values: list[str], count: int, what: str) -> np.ndarray:
    try:
        out = np.array(values[:count], dtype=np.float64)
    except ValueError:
        out = np.array([])
    if out.size != count or not np.isfinite(out).all():
        raise SampleError(str(path), f"line {number}: {what}: expected {count} numbers, found "
                                     f"{' '.join(values) or 'nothing'}")
    return out


def read_asf(path: str | Path) -> Skeleton:
    """Parse one ASF file."""
    path = Path(path)
    section, length, angle, bones = "", 1.0, "deg", {}
    root_order, root_axis, root_angles = ["tx", "ty", "tz", "rx", "ry", "rz"], "xyz", np.zeros(3)
    bone: dict[str, tuple[int, list[str]]] | None = None
    for number, words in _lines(path):
        key = words[0].lower()
        if key.startswith(":"):
            section = key
            continue
        if section == ":units" and key == "angle" and len(words) > 1:
            angle = words[1].lower()
        elif section == ":units" and key == "length":
            length = float(_numbers(path, number, words[1:], 1, "units length")[0])
        elif section == ":root" and key == "order":
            root_order = [w.lower() for w in words[1:]]
        elif section == ":root" and key == "axis":
            root_axis = words[1].lower()
        elif section == ":root" and key == "orientation":
            root_angles = _numbers(path, number, words[1:], 3, "root orientation")
        elif section == ":bonedata" and key == "begin":
            bone = {}
        elif section == ":bonedata" and key == "end" and bone is not None:
            parsed = _bone(path, bone)
            bones[parsed.name] = parsed
            bone = None
        elif section == ":bonedata" and bone is not None and not key.startswith("("):
            bone[key] = (number, words[1:])
        elif section == ":hierarchy" and key not in ("begin", "end"):
            for child in words[1:]:
                if child not in bones:
                    raise SampleError(str(path), f"line {number}: hierarchy names unknown bone "
                                                 f"{child!r}")
                bones[child].parent = words[0]
    if not bones:
        raise SampleError(str(path), "no bone in :bonedata")
    for bone_ in bones.values():
        if bone_.parent != "root" and bone_.parent not in bones:
            raise SampleError(str(path), f"bone {bone_.name!r} has unknown parent "
                                         f"{bone_.parent!r}")
    if angle not in ("deg", "rad"):
        raise SampleError(str(path), f":units angle {angle!r}: expected deg or rad")
    if length <= 0:
        raise SampleError(str(path), f":units length {length}: expected a positive multiplier")
    radians = math.pi / 180 if angle == "deg" else 1.0
    bad = [w for w in root_order if w not in ("tx", "ty", "tz", "rx", "ry", "rz")]
    if bad:
        raise SampleError(str(path), f":root order names {bad[0]!r}: expected TX..RZ")
    return Skeleton(root_order, euler(root_angles * radians, root_axis), bones,
                    INCH / length, radians)


def _bone(path: Path, fields: dict[str, tuple[int, list[str]]]) -> Bone:
    """One ``begin ... end`` block of :bonedata."""
    for key in ("name", "direction", "length"):
        if key not in fields:
            line = min((n for n, _ in fields.values()), default=0)
            raise SampleError(str(path), f"bone block near line {line}: no {key!r}")
    number, words = fields["name"]
    name = words[0]
    direction = _numbers(path, *fields["direction"], 3, f"direction of {name}")
    norm = np.linalg.norm(direction)
    length = float(_numbers(path, *fields["length"], 1, f"length of {name}")[0])
    axis_line, axis = fields.get("axis", (number, ["0", "0", "0", "XYZ"]))
    angles = _numbers(path, axis_line, axis, 3, f"axis of {name}")
    order = axis[3].lower() if len(axis) > 3 else "xyz"
    dof = [w.lower() for w in fields.get("dof", (0, []))[1]]
    if sorted(set(order)) != list(AXES) or len(order) != 3:
        raise SampleError(str(path), f"line {axis_line}: axis order {order!r} of {name}")
    bad = [d for d in dof if d not in ("rx", "ry", "rz")]
    if bad:
        raise SampleError(str(path), f"line {fields['dof'][0]}: dof {bad[0]!r} of {name}: "
                                     "expected rx, ry or rz")
    unit = direction / norm if norm > 0 else direction
    return Bone(name, unit, length, angles, order, dof)


def read_amc(path: str | Path, skeleton: Skeleton) -> dict[str, np.ndarray]:
    """Per bone (and ``root``) the (T, dof) values of every frame, in the file's units."""
    path = Path(path)
    counts = {"root": len(skeleton.root_order),
              **{b.name: len(b.dof) for b in skeleton.bones.values() if b.dof}}
    frames: list[dict[str, np.ndarray]] = []
    for number, words in _lines(path):
        if words[0].startswith(":"):
            continue
        if len(words) == 1 and words[0].isdigit():
            if frames:
                _check_frame(path, number, frames[-1], counts)
            frames.append({})
            continue
        name = words[0]
        if not frames:
            raise SampleError(str(path), f"line {number}: {name!r} before the first frame number")
        if name not in counts:
            raise SampleError(str(path), f"line {number}: bone {name!r} is not in the skeleton "
                                         "or has no degree of freedom")
        frames[-1][name] = _numbers(path, number, words[1:], counts[name], name)
        if len(words) - 1 != counts[name]:
            raise SampleError(str(path), f"line {number}: {name} has {len(words) - 1} values, "
                                         f"its dof lists {counts[name]}")
    if not frames:
        raise SampleError(str(path), "no frame")
    _check_frame(path, None, frames[-1], counts)
    return {name: np.stack([f[name] for f in frames]) for name in counts}


def _check_frame(path: Path, number: int | None, frame: dict[str, np.ndarray],
                 counts: dict[str, int]) -> None:
    missing = [name for name in counts if name not in frame]
    if missing:
        where = f"before line {number}" if number else "at the end"
        raise SampleError(str(path), f"the frame {where} has no values for {missing[0]!r}")


def forward_kinematics(skeleton: Skeleton, motion: dict[str, np.ndarray]) -> np.ndarray:
    """Joint positions (T, 1 + bones, 3) in metres: the root, then each bone's end."""
    root = motion["root"]
    frames = root.shape[0]
    order = skeleton.root_order
    translation = np.zeros((frames, 3))
    for axis in "xyz":
        if f"t{axis}" in order:
            translation[:, AXES.index(axis)] = root[:, order.index(f"t{axis}")]
    rotations = [d for d in order if d.startswith("r")]
    c = skeleton.root_axis
    local = euler(root[:, [order.index(d) for d in rotations]] * skeleton.radians,
                  "".join(d[1] for d in rotations))
    matrix = {"root": c @ local @ c.T}
    position = {"root": translation * skeleton.metres}
    for bone in _topological(skeleton):
        c = euler(bone.axis_angles * skeleton.radians, bone.axis_order)
        if bone.dof:
            local = euler(motion[bone.name] * skeleton.radians,
                          "".join(d[1] for d in bone.dof))
            matrix[bone.name] = matrix[bone.parent] @ (c @ local @ c.T)
        else:
            matrix[bone.name] = matrix[bone.parent]
        offset = bone.direction * bone.length * skeleton.metres
        position[bone.name] = position[bone.parent] + matrix[bone.name] @ offset
    return np.stack([position[name] for name in skeleton.joint_names], axis=1)


def _topological(skeleton: Skeleton) -> list[Bone]:
    """Bones ordered so that every parent comes before its children."""
    done, out = {"root"}, []
    pending = list(skeleton.bones.values())
    while pending:
        ready = [b for b in pending if b.parent in done]
        if not ready:
            raise PrepareError(f"bones {[b.name for b in pending][:3]} do not lead to the root")
        out += ready
        done |= {b.name for b in ready}
        pending = [b for b in pending if b.name not in done]
    return out


def skeleton_layout(skeleton: Skeleton, name: str) -> Layout:
    """The built-in ``cmu31`` when the bones are CMU's, else a layout of the ASF's tree."""
    if set(skeleton.joint_names) == set(CMU31.joint_names):
        return CMU31
    names = skeleton.joint_names
    parents = [0] + [names.index(b.parent) for b in skeleton.bones.values()]
    return Layout(name=name, joint_names=tuple(names), parents=tuple(parents), center=0)


def read_motion(item: tuple[Path, Path, int], layout: Layout) -> Sequence:
    """One AMC file with its ASF as a one-person sequence in ``layout``'s joint order."""
    amc, asf, label = item
    skeleton = read_asf(asf)
    if set(skeleton.joint_names) != set(layout.joint_names):
        raise SampleError(str(asf), f"bones differ from the dataset's layout {layout.name!r} "
                                    f"({len(skeleton.joint_names)} joints, expected "
                                    f"{layout.num_joints})")
    positions = forward_kinematics(skeleton, read_amc(amc, skeleton))
    order = [skeleton.joint_names.index(n) for n in layout.joint_names]
    seq = Sequence(amc.stem, positions[None][:, :, order].astype(np.float32), label,
                   {"subject": amc.stem.split("_")[0], "file": amc.name})
    return check_sequence(seq, layout, str(amc))


def read_class_list(path: Path) -> list[tuple[str, str, int | None]]:
    """``motion,class[,fold]`` rows (a header row is allowed): motion is an AMC file's stem
    or path relative to the raw folder."""
    rows = []
    with path.open(newline="") as f:
        for number, row in enumerate(csv.reader(f), start=1):
            row = [c.strip() for c in row]
            if not row or not any(row) or row[0].startswith("#"):
                continue
            if len(row) not in (2, 3) or (len(row) == 3 and not row[2].lstrip("-").isdigit()):
                if number == 1:
                    continue
                raise PrepareError(f"{path}, line {number}: expected 'motion,class' or "
                                   "'motion,class,fold'")
            rows.append((row[0], row[1], int(row[2]) if len(row) == 3 else None))
    if not rows:
        raise PrepareError(f"{path}: no 'motion,class' row")
    return rows


def find_asf(amc: Path) -> Path:
    """The subject's ASF beside an AMC: ``<subject>.asf`` for ``<subject>_<n>.amc``, else the
    only ASF in the folder."""
    named = amc.with_name(amc.stem.split("_")[0] + ".asf")
    if named.is_file():
        return named
    found = sorted(amc.parent.glob("*.asf"))
    if len(found) != 1:
        raise PrepareError(f"{amc}: no {named.name} beside it and {len(found)} other .asf files")
    return found[0]


def read_asf_amc(raw: str | Path, labels: str | Path, workers: int | None = None,
                 spill: Spill | None = None) -> tuple[RawDataset, list[SampleError]]:
    """The motions a class list names, below ``raw``; one benchmark ``foldK`` per fold in the
    list (fold K tests, the others train)."""
    root = Path(raw)
    if not root.is_dir():
        raise PrepareError(f"motion capture folder {root} does not exist")
    rows = read_class_list(Path(labels))
    by_stem = {p.stem: p for p in root.rglob("*.amc")}
    classes = sorted({c for _, c, _ in rows})
    items = []
    for motion, name, _ in rows:
        amc = root / motion if (root / motion).is_file() else by_stem.get(Path(motion).stem)
        if amc is None:
            raise PrepareError(f"{labels}: motion {motion!r} is not below {root}")
        items.append((amc, find_asf(amc), classes.index(name)))
    first = read_asf(items[0][1])
    layout = skeleton_layout(first, f"asf{len(first.joint_names)}")
    results = map_files(partial(read_motion, layout=layout), items, workers, desc="ASF/AMC",
                        spill=spill)
    damaged = [r for r in results if isinstance(r, SampleError)]
    kept = [(r, fold) for r, (_, _, fold) in zip(results, rows, strict=True)
            if isinstance(r, Sequence)]
    sequences = [s for s, _ in kept]
    for seq, fold in kept:
        if fold is not None:
            seq.meta["fold"] = fold
    folds = sorted({f for _, f in kept if f is not None})
    splits = {f"fold{k}": {"train": [i for i, (_, f) in enumerate(kept) if f != k],
                           "test": [i for i, (_, f) in enumerate(kept) if f == k]}
              for k in folds}
    return RawDataset(layout, classes, sequences, splits), damaged

