"""Skeleton layouts as data: joints, tree, symmetry, body parts and ST-GCN adjacency.

A :class:`Layout` describes the joint order of a dataset. Built-ins cover NTU RGB+D / PKU-MMD
(``ntu25``) and Kinect v1 / NW-UCLA (``ucla20``); any other skeleton is a small YAML file that
names each joint and its parent (see ``docs/data.md``).
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from skelssl.errors import LayoutError


@dataclass(frozen=True)
class Layout:
    """Joint order and structure of a skeleton.

    ``parents[v]`` is the 0-based index of joint ``v``'s parent; the centre joint is its own
    parent, so ``x - x[..., parents, :]`` gives bones with a zero bone at the centre.
    """

    name: str
    joint_names: tuple[str, ...]
    parents: tuple[int, ...]
    center: int
    left_right: tuple[tuple[int, int], ...] = ()
    parts: dict[str, tuple[int, ...]] = field(default_factory=dict)
    shoulders: tuple[int, int] | None = None  # (left, right): shoulder vector = right - left
    spine: tuple[int, int] | None = None  # (base, top): spine vector = top - base
    hips: tuple[int, int] | None = None  # (left, right): hip vector = right - left
    scores: bool = False  # each joint's last channel is a detection confidence, not a coordinate

    def __post_init__(self) -> None:
        v = len(self.joint_names)
        where = f"layout {self.name!r}"
        if v == 0:
            raise LayoutError(f"{where}: no joints")
        if len(set(self.joint_names)) != v:
            raise LayoutError(f"{where}: joint names are not unique")
        if len(self.parents) != v:
            raise LayoutError(f"{where}: {len(self.parents)} parents for {v} joints")
        indices = [self.center, *self.parents]
        indices += [j for pair in self.left_right for j in pair]
        indices += [j for joints in self.parts.values() for j in joints]
        indices += [*(self.shoulders or ()), *(self.spine or ()), *(self.hips or ())]
        bad = [j for j in indices if not 0 <= j < v]
        if bad:
            raise LayoutError(f"{where}: joint index {bad[0]} outside 0..{v - 1}")
        if self.parents[self.center] != self.center:
            raise LayoutError(f"{where}: the centre joint must be its own parent")
        for joint in range(v):
            seen, j = set(), joint
            while j != self.center:
                if j in seen:
                    raise LayoutError(
                        f"{where}: joint {self.joint_names[joint]!r} does not lead to the "
                        f"centre joint {self.joint_names[self.center]!r} (cycle)"
                    )
                seen.add(j)
                j = self.parents[j]
        paired = [j for pair in self.left_right for j in pair]
        if len(set(paired)) != len(paired) or any(a == b for a, b in self.left_right):
            raise LayoutError(f"{where}: each joint may appear in at most one left/right pair")

    @property
    def num_joints(self) -> int:
        return len(self.joint_names)

    def coordinates(self, channels: int) -> int:
        """How many of a joint's ``channels`` are coordinates (all but a confidence channel)."""
        return channels - 1 if self.scores else channels

    @property
    def edges(self) -> list[tuple[int, int]]:
        """(child, parent) pairs of the tree, centre excluded."""
        return [(v, p) for v, p in enumerate(self.parents) if v != p]

    @property
    def flip_index(self) -> list[int]:
        """Permutation that swaps every left joint with its right partner."""
        index = list(range(self.num_joints))
        for left, right in self.left_right:
            index[left], index[right] = right, left
        return index

    def index(self, joint: str | int) -> int:
        """0-based index of a joint given by name or index."""
        if isinstance(joint, int):
            if not 0 <= joint < self.num_joints:
                raise LayoutError(f"layout {self.name!r}: no joint {joint}")
            return joint
        if joint not in self.joint_names:
            close = difflib.get_close_matches(joint, self.joint_names, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise LayoutError(f"layout {self.name!r}: no joint named {joint!r}{hint}")
        return self.joint_names.index(joint)

    def hop_distance(self, max_hop: int = 1) -> np.ndarray:
        """(V, V) graph distance along the tree, ``inf`` beyond ``max_hop``."""
        v = self.num_joints
        link = np.eye(v, dtype=bool)
        for a, b in self.edges:
            link[a, b] = link[b, a] = True
        dist = np.full((v, v), np.inf)
        reach = np.eye(v, dtype=bool)
        dist[reach] = 0
        for hop in range(1, max_hop + 1):
            reach = (reach.astype(np.int64) @ link.astype(np.int64)) > 0
            dist[reach & np.isinf(dist)] = hop
        return dist

    def adjacency(self, max_hop: int = 1, center_distance: str = "graph") -> np.ndarray:
        """ST-GCN "spatial" partitions, shape (1 + 2·max_hop, V, V), float32.

        The binary adjacency within ``max_hop`` (self-loops included) is column-normalised
        (A·D⁻¹). For output joint ``w`` (a column) and a neighbour ``u`` at hop ``h``: hop 0 is
        partition 0 (the joint itself); for ``h ≥ 1`` a neighbour at the same or a larger
        distance from the centre goes to partition ``2h-1`` (centrifugal), a closer one to
        partition ``2h`` (centripetal). A graph convolution computes
        out[w] = Σ_k Σ_u x_k[u]·A_k[u, w].

        ``center_distance="graph"`` (default, the paper's definition) measures distance to the
        centre along the tree; ``"max_hop"`` reproduces the released ST-GCN code, which
        measures it only up to ``max_hop`` so that farther joints all tie (and most edges fall
        into partition 1).
        """
        if center_distance not in ("graph", "max_hop"):
            raise ValueError(f"center_distance {center_distance!r}: expected 'graph' or "
                             "'max_hop'")
        dist = self.hop_distance(max_hop)
        binary = np.isfinite(dist).astype(np.float64)
        normalised = binary / binary.sum(axis=0, keepdims=True)
        reach = self.num_joints if center_distance == "graph" else max_hop
        to_center = self.hop_distance(reach)[:, self.center]
        farther_or_same = to_center[:, None] >= to_center[None, :]  # [u, w]: u not closer than w
        partitions = [np.where(dist == 0, normalised, 0.0)]
        for hop in range(1, max_hop + 1):
            at_hop = dist == hop
            partitions.append(np.where(at_hop & farther_or_same, normalised, 0.0))
            partitions.append(np.where(at_hop & ~farther_or_same, normalised, 0.0))
        return np.stack(partitions).astype(np.float32)

    def directed_adjacency(self) -> np.ndarray:
        """2s-AGCN's subsets [identity, inward, outward], shape (3, V, V), float32.

        Inward holds A[parent, child] = 1 for every edge, outward A[child, parent] = 1; both are
        column-normalised (A·D⁻¹), so that out[w] = Σ_u x[u]·A[u, w] averages over the joints
        that feed joint ``w`` (its parent inward, its children outward).
        """
        v = self.num_joints
        inward, outward = np.zeros((v, v)), np.zeros((v, v))
        for child, parent in self.edges:
            inward[parent, child] = 1.0
            outward[child, parent] = 1.0

        def normalised(a: np.ndarray) -> np.ndarray:
            degree = a.sum(axis=0, keepdims=True)
            return np.divide(a, degree, out=np.zeros_like(a), where=degree > 0)

        return np.stack([np.eye(v), normalised(inward), normalised(outward)]).astype(np.float32)

    def to_dict(self) -> dict[str, Any]:
        """Name-based description, the same shape as a layout YAML file."""
        names = self.joint_names
        return {
            "name": self.name,
            "center": names[self.center],
            "joints": [[n, None if v == self.center else names[p]]
                       for v, (n, p) in enumerate(zip(names, self.parents, strict=True))],
            "left_right": [[names[a], names[b]] for a, b in self.left_right],
            "parts": {k: [names[j] for j in js] for k, js in self.parts.items()},
            "shoulders": [names[j] for j in self.shoulders] if self.shoulders else None,
            "spine": [names[j] for j in self.spine] if self.spine else None,
            "hips": [names[j] for j in self.hips] if self.hips else None,
            **({"scores": True} if self.scores else {}),
        }


_LAYOUT_KEYS = {"name", "center", "joints", "left_right", "parts", "shoulders", "spine",
                "hips", "scores"}


def layout_from_dict(spec: dict[str, Any], source: str = "<dict>") -> Layout:
    """Build a layout from its name-based description (the YAML schema of ``docs/data.md``)."""
    if not isinstance(spec, dict):
        raise LayoutError(f"{source}: a layout must be a mapping with keys {sorted(_LAYOUT_KEYS)}")
    unknown = set(spec) - _LAYOUT_KEYS
    if unknown:
        key = sorted(unknown)[0]
        close = difflib.get_close_matches(key, _LAYOUT_KEYS, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise LayoutError(f"{source}: unknown key {key!r}{hint}")
    for key in ("name", "center", "joints"):
        if key not in spec:
            raise LayoutError(f"{source}: missing key {key!r}")
    joints = spec["joints"]
    if not isinstance(joints, list) or not all(
        isinstance(j, (list, tuple)) and len(j) == 2 for j in joints
    ):
        raise LayoutError(f"{source}: 'joints' must be a list of [name, parent] pairs")
    names = [str(n) for n, _ in joints]
    position = {n: i for i, n in enumerate(names)}

    def idx(name: Any, key: str) -> int:
        if name not in position:
            raise LayoutError(f"{source}: {key} names unknown joint {name!r}")
        return position[name]

    center = idx(spec["center"], "'center'")
    parents = [center if p is None or p == n else idx(p, f"parent of {n!r}") for n, p in joints]
    pairs = tuple((idx(a, "'left_right'"), idx(b, "'left_right'"))
                  for a, b in spec.get("left_right") or [])
    parts = {str(k): tuple(idx(j, f"part {k!r}") for j in v)
             for k, v in (spec.get("parts") or {}).items()}

    def flag(key: str) -> bool:
        value = spec.get(key, False)
        if not isinstance(value, bool):
            raise LayoutError(f"{source}: {key!r} must be true or false, got {value!r}")
        return value

    def pair(key: str) -> tuple[int, int] | None:
        value = spec.get(key)
        if not value:
            return None
        if not isinstance(value, (list, tuple)) or len(value) != 2:
            raise LayoutError(f"{source}: {key!r} must be a [first, second] pair of joint names")
        return idx(value[0], repr(key)), idx(value[1], repr(key))

    return Layout(
        name=str(spec["name"]),
        joint_names=tuple(names),
        parents=tuple(parents),
        center=center,
        left_right=pairs,
        parts=parts,
        shoulders=pair("shoulders"),
        spine=pair("spine"),
        hips=pair("hips"),
        scores=flag("scores"),
    )


def _from_one_based(name: str, joint_names: list[str], edges: list[tuple[int, int]], center: int,
                    left_right: list[tuple[int, int]], parts: dict[str, list[int]],
                    shoulders: tuple[int, int], spine: tuple[int, int],
                    hips: tuple[int, int]) -> Layout:
    parents = list(range(len(joint_names)))
    for child, parent in edges:
        parents[child - 1] = parent - 1
    return Layout(
        name=name,
        joint_names=tuple(joint_names),
        parents=tuple(parents),
        center=center - 1,
        left_right=tuple((a - 1, b - 1) for a, b in left_right),
        parts={k: tuple(j - 1 for j in v) for k, v in parts.items()},
        shoulders=(shoulders[0] - 1, shoulders[1] - 1),
        spine=(spine[0] - 1, spine[1] - 1),
        hips=(hips[0] - 1, hips[1] - 1),
    )


NTU25 = _from_one_based(
    "ntu25",
    ["spine_base", "spine_mid", "neck", "head", "left_shoulder", "left_elbow", "left_wrist",
     "left_hand", "right_shoulder", "right_elbow", "right_wrist", "right_hand", "left_hip",
     "left_knee", "left_ankle", "left_foot", "right_hip", "right_knee", "right_ankle",
     "right_foot", "spine_shoulder", "left_hand_tip", "left_thumb", "right_hand_tip",
     "right_thumb"],
    edges=[(1, 2), (2, 21), (3, 21), (4, 3), (5, 21), (6, 5), (7, 6), (8, 7), (9, 21), (10, 9),
           (11, 10), (12, 11), (13, 1), (14, 13), (15, 14), (16, 15), (17, 1), (18, 17),
           (19, 18), (20, 19), (22, 23), (23, 8), (24, 25), (25, 12)],
    center=21,
    left_right=[(5, 9), (6, 10), (7, 11), (8, 12), (13, 17), (14, 18), (15, 19), (16, 20),
                (22, 24), (23, 25)],
    parts={"trunk": [4, 3, 21, 2, 1], "left_arm": [5, 6, 7, 8, 22, 23],
           "right_arm": [9, 10, 11, 12, 24, 25], "left_leg": [13, 14, 15, 16],
           "right_leg": [17, 18, 19, 20]},
    shoulders=(5, 9),
    spine=(1, 21),
    hips=(13, 17),
)

UCLA20 = _from_one_based(
    "ucla20",
    ["hip_center", "spine", "shoulder_center", "head", "left_shoulder", "left_elbow",
     "left_wrist", "left_hand", "right_shoulder", "right_elbow", "right_wrist", "right_hand",
     "left_hip", "left_knee", "left_ankle", "left_foot", "right_hip", "right_knee",
     "right_ankle", "right_foot"],
    edges=[(1, 2), (2, 3), (4, 3), (5, 3), (6, 5), (7, 6), (8, 7), (9, 3), (10, 9), (11, 10),
           (12, 11), (13, 1), (14, 13), (15, 14), (16, 15), (17, 1), (18, 17), (19, 18),
           (20, 19)],
    center=3,
    left_right=[(5, 9), (6, 10), (7, 11), (8, 12), (13, 17), (14, 18), (15, 19), (16, 20)],
    parts={"trunk": [1, 2, 3, 4], "left_arm": [5, 6, 7, 8], "right_arm": [9, 10, 11, 12],
           "left_leg": [13, 14, 15, 16], "right_leg": [17, 18, 19, 20]},
    shoulders=(5, 9),
    spine=(1, 3),
    hips=(13, 17),
)

def _cmu_side(side: str) -> list[list[str]]:
    leg = ["hipjoint", "femur", "tibia", "foot", "toes"]
    arm = ["clavicle", "humerus", "radius", "wrist", "hand", "fingers", "thumb"]
    parents = {"hipjoint": "root", "femur": "hipjoint", "tibia": "femur", "foot": "tibia",
               "toes": "foot", "clavicle": "thorax", "humerus": "clavicle", "radius": "humerus",
               "wrist": "radius", "hand": "wrist", "fingers": "hand", "thumb": "wrist"}
    return [[side + j, parents[j] if parents[j] in ("root", "thorax") else side + parents[j]]
            for j in leg + arm]


_CMU_LEFT, _CMU_RIGHT = _cmu_side("l"), _cmu_side("r")
# CMU motion capture (Acclaim ASF/AMC, 31 joints in the ASF's bone order): the root (pelvis)
# then the end of every bone; e.g. lclavicle ends at the left shoulder, lhumerus at the elbow.
CMU31 = layout_from_dict({
    "name": "cmu31",
    "center": "root",
    "joints": [["root", None], *_CMU_LEFT[:5], *_CMU_RIGHT[:5],
               ["lowerback", "root"], ["upperback", "lowerback"], ["thorax", "upperback"],
               ["lowerneck", "thorax"], ["upperneck", "lowerneck"], ["head", "upperneck"],
               *_CMU_LEFT[5:], *_CMU_RIGHT[5:]],
    "left_right": [[left, right]
                   for (left, _), (right, _) in zip(_CMU_LEFT, _CMU_RIGHT, strict=True)],
    "parts": {"trunk": ["root", "lowerback", "upperback", "thorax", "lowerneck", "upperneck",
                        "head"],
              **{f"{name}_{limb}": [j for j, _ in joints[sl]]
                 for name, joints in (("left", _CMU_LEFT), ("right", _CMU_RIGHT))
                 for limb, sl in (("leg", slice(0, 5)), ("arm", slice(5, 12)))}},
    "shoulders": ["lclavicle", "rclavicle"],
    "spine": ["root", "thorax"],
    "hips": ["lhipjoint", "rhipjoint"],
}, source="cmu31")


def _sided(*joints: str) -> list[str]:
    return [f"{side}_{joint}" for joint in joints for side in ("left", "right")]


def _keypoints(name: str, joints: list[list[Any]], center: str, limbs: dict[str, list[str]],
               spine: list[str] | None) -> Layout:
    """A 2-D keypoint layout: left/right pairs found by name, parts from ``limbs``."""
    names = [j for j, _ in joints]
    pairs = [[n, "right" + n[4:]] for n in names if n.startswith("left")]
    return layout_from_dict({"name": name, "center": center, "joints": joints,
                             "left_right": pairs, "parts": limbs, "spine": spine,
                             "shoulders": ["left_shoulder", "right_shoulder"],
                             "hips": ["left_hip", "right_hip"]}, source=name)


def _limbs(face: list[str], trunk: list[str], feet: tuple[str, ...] = ()) -> dict[str, list[str]]:
    out = {"head": face, "trunk": trunk}
    for side in ("left", "right"):
        out[f"{side}_arm"] = [f"{side}_{j}" for j in ("shoulder", "elbow", "wrist")]
        out[f"{side}_leg"] = [f"{side}_{j}" for j in ("hip", "knee", "ankle", *feet)]
    return out


_FACE = ["nose", *_sided("eye", "ear")]
# 2-D keypoints of pose estimators (x, y in pixels, y down). COCO-17 (MMPose, pyskl, ViTPose)
# has no neck or mid-hip: the nose is the centre, as in pyskl's graph.
COCO17 = _keypoints(
    "coco17",
    [["nose", None], ["left_eye", "nose"], ["right_eye", "nose"], ["left_ear", "left_eye"],
     ["right_ear", "right_eye"], ["left_shoulder", "nose"], ["right_shoulder", "nose"],
     ["left_elbow", "left_shoulder"], ["right_elbow", "right_shoulder"],
     ["left_wrist", "left_elbow"], ["right_wrist", "right_elbow"],
     ["left_hip", "left_shoulder"], ["right_hip", "right_shoulder"], ["left_knee", "left_hip"],
     ["right_knee", "right_hip"], ["left_ankle", "left_knee"], ["right_ankle", "right_knee"]],
    center="nose", limbs=_limbs(_FACE, ["nose"]), spine=None)
# OpenPose BODY_25: the neck is the centre, the mid-hip the base of the spine.
OPENPOSE25 = _keypoints(
    "body25",
    [["nose", "neck"], ["neck", None], ["right_shoulder", "neck"],
     ["right_elbow", "right_shoulder"], ["right_wrist", "right_elbow"], ["left_shoulder", "neck"],
     ["left_elbow", "left_shoulder"], ["left_wrist", "left_elbow"], ["mid_hip", "neck"],
     ["right_hip", "mid_hip"], ["right_knee", "right_hip"], ["right_ankle", "right_knee"],
     ["left_hip", "mid_hip"], ["left_knee", "left_hip"], ["left_ankle", "left_knee"],
     ["right_eye", "nose"], ["left_eye", "nose"], ["right_ear", "right_eye"],
     ["left_ear", "left_eye"], ["left_big_toe", "left_ankle"],
     ["left_small_toe", "left_big_toe"], ["left_heel", "left_ankle"],
     ["right_big_toe", "right_ankle"], ["right_small_toe", "right_big_toe"],
     ["right_heel", "right_ankle"]],
    center="neck", limbs=_limbs(_FACE, ["neck", "mid_hip"], ("big_toe", "small_toe", "heel")),
    spine=["mid_hip", "neck"])
# OpenPose COCO-18 (ST-GCN's Kinetics skeleton): hips hang off the shoulders, as in its graph.
OPENPOSE18 = _keypoints(
    "openpose18",
    [["nose", "neck"], ["neck", None], ["right_shoulder", "neck"],
     ["right_elbow", "right_shoulder"], ["right_wrist", "right_elbow"], ["left_shoulder", "neck"],
     ["left_elbow", "left_shoulder"], ["left_wrist", "left_elbow"],
     ["right_hip", "right_shoulder"], ["right_knee", "right_hip"], ["right_ankle", "right_knee"],
     ["left_hip", "left_shoulder"], ["left_knee", "left_hip"], ["left_ankle", "left_knee"],
     ["right_eye", "nose"], ["left_eye", "nose"], ["right_ear", "right_eye"],
     ["left_ear", "left_eye"]],
    center="neck", limbs=_limbs(_FACE, ["neck"]), spine=None)

BUILTIN_LAYOUTS: dict[str, Layout] = {layout.name: layout for layout in (
    NTU25, UCLA20, CMU31, COCO17, OPENPOSE25, OPENPOSE18)}
KEYPOINT_LAYOUTS = frozenset({"coco17", "body25", "openpose18"})  # of 2-D pose estimators


def load_layout(spec: str | Path | dict[str, Any] | Layout) -> Layout:
    """A layout from a built-in name, a YAML file path, a description dict, or a Layout."""
    if isinstance(spec, Layout):
        return spec
    if isinstance(spec, dict):
        return layout_from_dict(spec)
    text = str(spec)
    if text in BUILTIN_LAYOUTS:
        return BUILTIN_LAYOUTS[text]
    path = Path(text)
    if path.suffix.lower() in (".yaml", ".yml") or path.exists():
        if not path.is_file():
            raise LayoutError(f"layout file {path} does not exist")
        try:
            data = yaml.safe_load(path.read_text())
        except yaml.YAMLError as error:
            raise LayoutError(f"{path}: not valid YAML ({' '.join(str(error).split())})") \
                from None
        return layout_from_dict(data, source=str(path))
    close = difflib.get_close_matches(text, BUILTIN_LAYOUTS, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    raise LayoutError(
        f"unknown layout {text!r}: expected one of {sorted(BUILTIN_LAYOUTS)} "
        f"or a path to a layout .yaml file{hint}"
    )
