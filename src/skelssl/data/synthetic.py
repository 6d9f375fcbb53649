"""Procedural skeleton actions on ``ntu25``: the embedded default dataset of skelssl.

Each sample is a forward-kinematics body (proportions of one of 20 virtual subjects) performing
one of 16 actions, seen by one of 3 virtual Kinect cameras. Classes differ by how joints move,
not by a pose: several come in time-reversed pairs (squat down / stand up, raise / lower arms,
turn left / right, walk towards / apart) whose mean poses are the same, and every sample gets a
random resting posture, speed, amplitude, repetition count, length, viewpoint, distance and
sensor noise. Generation is deterministic per (seed, sample index), whatever the worker count.
With ``dims=2`` the same sequences are 2-D keypoints: the camera coordinates projected through a
pinhole colour camera (1920 × 1080 pixels, focal length 1000 pixels, y down), as a pose
estimator run on the videos would give them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from skelssl.data.sequence import RawDataset, Sequence, rule_splits
from skelssl.skeleton import NTU25

SUBJECTS = 20
TRAIN_SUBJECTS = frozenset(range(1, 13))  # xsub: subjects 1-12 train, 13-20 test
CAMERA_YAWS = {1: 0.0, 2: 45.0, 3: -45.0}  # degrees; xview trains on cameras 2 and 3
XVIEW_TRAIN_CAMERAS = frozenset([2, 3])
MIN_FRAMES, MAX_FRAMES = 40, 110
IMAGE_SIZE, FOCAL = (1920, 1080), 1000.0  # the colour camera of the 2-D keypoints (pixels)

# Forward-kinematics tree rooted at the pelvis (hand tips and thumbs hang off the hand).
FK_PARENT = {
    "spine_mid": "spine_base", "spine_shoulder": "spine_mid", "neck": "spine_shoulder",
    "head": "neck",
}
for _side in ("left", "right"):
    FK_PARENT.update({f"{_side}_{child}": parent if parent.startswith("spine") else
                      f"{_side}_{parent}" for child, parent in (
                          ("shoulder", "spine_shoulder"), ("elbow", "shoulder"),
                          ("wrist", "elbow"), ("hand", "wrist"), ("hand_tip", "hand"),
                          ("thumb", "hand"), ("hip", "spine_base"), ("knee", "hip"),
                          ("ankle", "knee"), ("foot", "ankle"))})
FK_ORDER = ["spine_mid", "spine_shoulder", "neck", "head"] + [
    f"{side}_{part}" for side in ("left", "right") for part in (
        "shoulder", "elbow", "wrist", "hand", "hand_tip", "thumb", "hip", "knee", "ankle", "foot")]


def _rest_offsets(arm: float, leg: float, torso: float, width: float) -> dict[str, np.ndarray]:
    """Bone vectors in the rest pose (metres, x = the body's left, y = up, z = forward)."""
    off: dict[str, tuple[float, float, float]] = {
        "spine_mid": (0, 0.25 * torso, 0), "spine_shoulder": (0, 0.22 * torso, 0),
        "neck": (0, 0.07, 0), "head": (0, 0.13, 0),
    }
    for side, sign in (("left", 1.0), ("right", -1.0)):
        off.update({
            f"{side}_shoulder": (sign * 0.18 * width, -0.03, 0),
            f"{side}_elbow": (0, -0.28 * arm, 0), f"{side}_wrist": (0, -0.25 * arm, 0),
            f"{side}_hand": (0, -0.08, 0), f"{side}_hand_tip": (0, -0.07, 0),
            f"{side}_thumb": (-sign * 0.02, -0.04, 0.04),
            f"{side}_hip": (sign * 0.09 * width, -0.05, 0),
            f"{side}_knee": (0, -0.42 * leg, 0), f"{side}_ankle": (0, -0.40 * leg, 0),
            f"{side}_foot": (0, -0.05, 0.12),
        })
    return {k: np.asarray(v, dtype=np.float64) for k, v in off.items()}


def rot(axis: str, angle: np.ndarray) -> np.ndarray:
    """Rotation matrices (..., 3, 3) about ``x``, ``y`` or ``z`` by ``angle`` radians."""
    angle = np.asarray(angle, dtype=np.float64)
    c, s = np.cos(angle), np.sin(angle)
    o, i = np.zeros_like(angle), np.ones_like(angle)
    rows = {
        "x": ((i, o, o), (o, c, -s), (o, s, c)),
        "y": ((c, o, s), (o, i, o), (-s, o, c)),
        "z": ((c, -s, o), (s, c, o), (o, o, i)),
    }[axis]
    return np.stack([np.stack(r, axis=-1) for r in rows], axis=-2)


@dataclass
class Body:
    """Proportions of one virtual subject."""

    scale: float
    arm: float
    leg: float
    torso: float
    width: float

    @classmethod
    def draw(cls, rng: np.random.Generator) -> Body:
        return cls(scale=rng.uniform(0.85, 1.15), arm=rng.uniform(0.9, 1.1),
                   leg=rng.uniform(0.9, 1.1), torso=rng.uniform(0.9, 1.1),
                   width=rng.uniform(0.85, 1.15))

    @property
    def thigh(self) -> float:
        return 0.42 * self.leg

    @property
    def shin(self) -> float:
        return 0.40 * self.leg


class Motion:
    """Per-frame bone rotations, root translation and heading of one person."""

    def __init__(self, frames: int) -> None:
        self.frames = frames
        self.bones: dict[str, np.ndarray] = {}
        self.root = np.zeros((frames, 3))
        self.yaw = np.zeros(frames)

    def turn(self, bone: str, axis: str, angle: np.ndarray | float) -> None:
        """Compose a rotation about the bone's local ``axis`` onto the bone ``bone``."""
        angle = np.broadcast_to(np.asarray(angle, dtype=np.float64), (self.frames,))
        r = rot(axis, angle)
        self.bones[bone] = self.bones[bone] @ r if bone in self.bones else r

    def arm(self, side: str, raise_fwd: np.ndarray | float = 0.0, raise_side: np.ndarray | float
            = 0.0, inward: np.ndarray | float = 0.0, elbow: np.ndarray | float = 0.0) -> None:
        """Shoulder flexion, abduction, horizontal adduction and elbow flexion (radians)."""
        sign = 1.0 if side == "left" else -1.0
        self.turn(f"{side}_elbow", "y", -sign * np.asarray(inward))
        self.turn(f"{side}_elbow", "z", sign * np.asarray(raise_side))
        self.turn(f"{side}_elbow", "x", -np.asarray(raise_fwd))
        self.turn(f"{side}_wrist", "x", -np.asarray(elbow))

    def leg(self, side: str, hip: np.ndarray | float = 0.0, knee: np.ndarray | float = 0.0
            ) -> None:
        """Hip flexion (thigh forward) and knee flexion (shin backward), radians."""
        self.turn(f"{side}_knee", "x", -np.asarray(hip))
        self.turn(f"{side}_ankle", "x", np.asarray(knee))

    def pose(self, body: Body) -> np.ndarray:
        """Joint positions (T, 25, 3) by forward kinematics; the floor is at y = 0."""
        offsets = _rest_offsets(body.arm, body.leg, body.torso, body.width)
        eye = np.broadcast_to(np.eye(3), (self.frames, 3, 3))
        frame = {"spine_base": rot("y", self.yaw)}
        hip_height = body.thigh + body.shin + 0.10
        pos = {"spine_base": self.root + np.array([0.0, hip_height, 0.0])}
        for child in FK_ORDER:
            parent = FK_PARENT[child]
            frame[child] = frame[parent] @ self.bones.get(child, eye)
            pos[child] = pos[parent] + frame[child] @ offsets[child]
        out = np.stack([pos[name] for name in NTU25.joint_names], axis=1)
        return out * body.scale


def smoothstep(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 0.0, 1.0)
    return p * p * (3 - 2 * p)


def plateau(p: np.ndarray, rise: float = 0.2) -> np.ndarray:
    """0 → 1 over the first ``rise`` of the action, 1, then back to 0 over the last ``rise``."""
    return smoothstep(p / rise) * smoothstep((1 - p) / rise)


@dataclass
class Context:
    """Per-sample draw shared by the action functions."""

    p: np.ndarray  # action phase per frame, 0..1 (clipped: idle before and after)
    amp: float  # amplitude factor
    reps: int  # repetitions of cyclic actions
    rng: np.random.Generator
    body: Body


def _wave(ctx: Context, m: Motion, side: str) -> None:
    env = plateau(ctx.p)
    m.arm(side, raise_side=env * np.deg2rad(110) * ctx.amp,
          elbow=env * np.deg2rad(45 + 30 * np.sin(2 * np.pi * (ctx.reps + 1) * ctx.p)))


def _clap(ctx: Context, m: Motion) -> None:
    env = plateau(ctx.p)
    beat = 0.5 + 0.5 * np.cos(2 * np.pi * (ctx.reps + 1) * ctx.p)
    for side in ("left", "right"):
        m.arm(side, raise_fwd=env * np.deg2rad(65), inward=env * np.deg2rad(15 + 35 * beat),
              elbow=env * np.deg2rad(50))


def _punch(ctx: Context, m: Motion) -> None:
    env = plateau(ctx.p, 0.15)
    strike = np.abs(np.sin(np.pi * ctx.reps * ctx.p)) ** 3
    m.arm("right", raise_fwd=env * np.deg2rad(40 + 45 * strike * ctx.amp),
          elbow=env * np.deg2rad(120 - 115 * strike))
    m.arm("left", raise_fwd=env * np.deg2rad(40), elbow=env * np.deg2rad(120))


def _kick(ctx: Context, m: Motion) -> None:
    strike = np.sin(np.pi * ctx.reps * ctx.p) ** 2 * (ctx.p < 1)
    m.leg(("left", "right")[int(ctx.rng.integers(2))], hip=np.deg2rad(75) * ctx.amp * strike,
          knee=np.deg2rad(60) * (1 - strike) * np.sin(np.pi * ctx.p))
    m.turn("spine_mid", "x", -np.deg2rad(10) * strike)


def _jump(ctx: Context, m: Motion) -> None:
    hop = np.abs(np.sin(np.pi * ctx.reps * ctx.p))
    crouch = (1 - hop) * np.sin(np.pi * ctx.p)
    m.root[:, 1] += 0.25 * ctx.amp * hop * (ctx.p > 0) * (ctx.p < 1)
    for side in ("left", "right"):
        m.leg(side, hip=np.deg2rad(35) * crouch, knee=np.deg2rad(60) * crouch)
        m.arm(side, raise_fwd=np.deg2rad(70) * hop * ctx.amp)
    m.root[:, 1] -= ctx.body.thigh * (1 - np.cos(np.deg2rad(35) * crouch))


def _bow(ctx: Context, m: Motion) -> None:
    bend = np.sin(np.pi * max(ctx.reps // 2, 1) * ctx.p) ** 2 * (ctx.p < 1)
    m.turn("spine_mid", "x", np.deg2rad(55) * ctx.amp * bend)
    m.turn("head", "x", np.deg2rad(15) * bend)


def _squat(ctx: Context, m: Motion, down: bool) -> None:
    depth = smoothstep((ctx.p - 0.1) / 0.8)
    depth = depth if down else 1 - depth
    hip, knee = np.deg2rad(95) * ctx.amp * depth, np.deg2rad(115) * ctx.amp * depth
    for side in ("left", "right"):
        m.leg(side, hip=hip, knee=knee)
        m.arm(side, raise_fwd=0.6 * hip)
    m.turn("spine_mid", "x", 0.45 * hip)
    thigh, shin = ctx.body.thigh, ctx.body.shin
    m.root[:, 1] -= thigh + shin - thigh * np.cos(hip) - shin * np.cos(hip - knee)
    m.root[:, 2] -= thigh * np.sin(hip) + shin * np.sin(hip - knee)


def _arms_up(ctx: Context, m: Motion, up: bool) -> None:
    level = smoothstep((ctx.p - 0.1) / 0.8)
    level = level if up else 1 - level
    for side in ("left", "right"):
        m.arm(side, raise_side=np.deg2rad(150) * ctx.amp * level, elbow=np.deg2rad(15) * level)


def _steps(ctx: Context, m: Motion, cycles: float, stride: float) -> None:
    """Walking gait on the spot (legs and arm swing); the caller moves the root."""
    gait = np.sin(2 * np.pi * cycles * ctx.p) * (ctx.p > 0) * (ctx.p < 1)
    for side, sign in (("left", 1.0), ("right", -1.0)):
        swing = sign * gait
        m.leg(side, hip=np.deg2rad(25) * stride * swing,
              knee=np.deg2rad(35) * stride * np.clip(swing, 0, None))
        m.arm(side, raise_fwd=-np.deg2rad(20) * stride * swing, elbow=np.deg2rad(20))


def _turn(ctx: Context, m: Motion, direction: float) -> None:
    _steps(ctx, m, cycles=1 + ctx.reps // 2, stride=0.4)
    start = ctx.rng.uniform(-np.pi, np.pi)  # people turn from any heading
    m.yaw += start + direction * np.deg2rad(100) * ctx.amp * smoothstep(ctx.p)


def _handshake(ctx: Context, m: Motion) -> None:
    env = plateau(ctx.p)
    shake = np.sin(2 * np.pi * (ctx.reps + 2) * ctx.p)
    m.arm("right", raise_fwd=env * np.deg2rad(45 + 8 * shake), inward=env * np.deg2rad(20),
          elbow=env * np.deg2rad(35))


Action = Callable[[Context, Motion], None]
SINGLE: dict[str, Action] = {
    "wave right hand": lambda c, m: _wave(c, m, "right"),
    "wave left hand": lambda c, m: _wave(c, m, "left"),
    "clap": _clap,
    "punch": _punch,
    "kick": _kick,
    "jump": _jump,
    "bow": _bow,
    "squat down": lambda c, m: _squat(c, m, True),
    "stand up from squat": lambda c, m: _squat(c, m, False),
    "raise both arms": lambda c, m: _arms_up(c, m, True),
    "lower both arms": lambda c, m: _arms_up(c, m, False),
    "turn left": lambda c, m: _turn(c, m, 1.0),
    "turn right": lambda c, m: _turn(c, m, -1.0),
}
PAIRS = ("handshake", "walk towards each other", "walk apart")
CLASS_NAMES = [*SINGLE, *PAIRS]


def _rest_posture(m: Motion, rng: np.random.Generator) -> None:
    """A random idle posture, so that a still pose says little about the action.

    Besides small variations it sometimes holds an arm up, a leg lifted or the torso bent:
    the poses that some actions pass through, held still.
    """
    for side in ("left", "right"):
        m.arm(side, raise_fwd=np.deg2rad(rng.uniform(-15, 40)),
              raise_side=np.deg2rad(rng.uniform(0, 30)), elbow=np.deg2rad(rng.uniform(0, 70)))
        m.leg(side, hip=np.deg2rad(rng.uniform(-5, 10)))
        m.turn(f"{side}_hip", "z", (1 if side == "left" else -1) * np.deg2rad(rng.uniform(0, 8)))
    side = ("left", "right")[int(rng.integers(2))]
    if rng.random() < 0.35:
        m.arm(side, raise_fwd=np.deg2rad(rng.uniform(0, 60)),
              raise_side=np.deg2rad(rng.uniform(30, 130)), elbow=np.deg2rad(rng.uniform(0, 60)))
    if rng.random() < 0.2:  # guard: both forearms up in front
        for either in ("left", "right"):
            m.arm(either, raise_fwd=np.deg2rad(rng.uniform(20, 50)),
                  elbow=np.deg2rad(rng.uniform(90, 130)))
    if rng.random() < 0.3:
        m.leg(side, hip=np.deg2rad(rng.uniform(15, 60)), knee=np.deg2rad(rng.uniform(0, 60)))
    bend = rng.uniform(10, 40) if rng.random() < 0.25 else rng.uniform(-8, 12)
    m.turn("spine_mid", "x", np.deg2rad(bend))
    m.turn("spine_mid", "z", np.deg2rad(rng.uniform(-6, 6)))
    m.turn("head", "x", np.deg2rad(rng.uniform(-15, 20)))


def _people(label: int, ctx: Context, frames: int, bodies: list[Body],
            rng: np.random.Generator) -> list[np.ndarray]:
    """World coordinates (T, 25, 3) of each person performing class ``label``."""
    name = CLASS_NAMES[label]
    if name in SINGLE:
        m = Motion(frames)
        _rest_posture(m, rng)
        SINGLE[name](ctx, m)
        return [m.pose(bodies[0])]
    poses = []
    for person, body in enumerate(bodies):
        m = Motion(frames)
        _rest_posture(m, rng)
        facing = 1.0 if person == 0 else -1.0  # person 0 looks along +z, person 1 along -z
        if name == "handshake":  # walk up to each other, then shake hands
            approach = smoothstep(ctx.p / 0.4)
            _steps(Context(np.clip(ctx.p / 0.4, 0, 1), ctx.amp, ctx.reps, rng, body), m,
                   cycles=1, stride=0.6)
            _handshake(Context(np.clip((ctx.p - 0.4) / 0.6, 0, 1), ctx.amp, ctx.reps, rng,
                               body), m)
            far = rng.uniform(1.6, 2.6)
            gap = far + (0.95 * ctx.body.scale - far) * approach
        else:
            _steps(ctx, m, cycles=2 + ctx.reps, stride=1.0)
            near, far = 0.9, rng.uniform(2.5, 3.5)
            gap = far + (near - far) * ctx.p if name == "walk towards each other" \
                else near + (far - near) * ctx.p
            if name == "walk apart":  # face each other, turn away, walk off
                m.yaw += np.pi * smoothstep(ctx.p / 0.25)
        m.yaw += 0.0 if person == 0 else np.pi
        m.root[:, 2] += -facing * np.broadcast_to(gap, (frames,)) / 2
        poses.append(m.pose(body))
    return poses


def _camera(world: np.ndarray, yaw_deg: float, distance: float, height: float,
            pitch_deg: float) -> np.ndarray:
    """Kinect camera coordinates (metres): x to the sensor's left, y up, z away from it.

    A subject with heading 0 faces the sensor, so its right shoulder has the larger x.
    """
    r = rot("y", np.deg2rad(yaw_deg) + np.pi)  # turn the subject to face the sensor
    r = rot("x", np.deg2rad(pitch_deg)) @ r
    cam = world @ r.T
    return cam + np.array([0.0, -height, distance])


def project(joints: np.ndarray) -> np.ndarray:
    """Camera coordinates (..., 3) in metres → pixel coordinates (..., 2); zeros stay zero."""
    z = np.where(joints[..., 2:] > 0, joints[..., 2:], 1.0)
    pixels = np.concatenate([IMAGE_SIZE[0] / 2 - FOCAL * joints[..., :1] / z,
                             IMAGE_SIZE[1] / 2 - FOCAL * joints[..., 1:2] / z], axis=-1)
    return np.where((joints != 0).any(axis=-1, keepdims=True), pixels, 0.0)


def make_sample(index: int, seed: int = 0, per_class: int = 100, dims: int = 3) -> Sequence:
    """Sample ``index`` of the synthetic dataset (class = index // per_class), as 3-D joints
    or (``dims=2``) projected 2-D keypoints."""
    rng = np.random.default_rng([seed, index])
    label, k = divmod(index, per_class)
    subject = (13 * k + label) % SUBJECTS + 1  # 13 is coprime with 20: every class meets
    camera = (k + label) % len(CAMERA_YAWS) + 1  # all subjects and cameras early on
    subject_rng = np.random.default_rng([seed, 1_000_000 + subject])
    bodies = [Body.draw(subject_rng), Body.draw(rng)]
    frames = int(rng.integers(MIN_FRAMES, MAX_FRAMES + 1))
    lead, tail = rng.uniform(0, 0.3, size=2)
    t = np.arange(frames) / (frames - 1)
    ctx = Context(p=np.clip((t - lead) / (1 - lead - tail), 0, 1), amp=rng.uniform(0.75, 1.2),
                  reps=int(rng.integers(1, 4)), rng=rng, body=bodies[0])
    people = _people(label, ctx, frames, bodies, rng)
    heading = rng.uniform(-30, 30)
    yaw = CAMERA_YAWS[camera] + heading + rng.uniform(-8, 8)
    distance, height, pitch = rng.uniform(2.5, 4.2), rng.uniform(0.7, 1.2), rng.uniform(-8, 8)
    joints = np.zeros((2, frames, NTU25.num_joints, 3))
    for person, world in enumerate(people):
        joints[person] = _camera(world, yaw, distance, height, pitch)
        noise = rng.normal(0, 0.008, size=world.shape)
        spikes = rng.random(world.shape[:2]) < 0.004  # occasional tracking glitches
        noise[spikes] += rng.normal(0, 0.06, size=(int(spikes.sum()), 3))
        joints[person] += noise
    meta = {"subject": subject, "camera": camera}
    if dims == 2:
        joints = project(joints)
    return Sequence(name=f"syn{seed:03d}_{index:06d}", joints=joints.astype(np.float32),
                    label=label, meta=meta)


def make_synthetic(per_class: int = 100, seed: int = 0, dims: int = 3) -> RawDataset:
    """The synthetic dataset: ``per_class`` samples of each of the 16 classes, 3-D joints or
    (``dims=2``) 2-D keypoints.

    Benchmarks: ``xsub`` (subjects 1-12 train, 13-20 test) and ``xview`` (cameras 2, 3 train,
    camera 1 test), as in NTU RGB+D.
    """
    if per_class < 1:
        raise ValueError(f"per_class must be at least 1, got {per_class}")
    if dims not in (2, 3):
        raise ValueError(f"dims must be 2 or 3, got {dims}")
    sequences = [make_sample(i, seed, per_class, dims) for i in range(per_class * len(CLASS_NAMES))]
    rules = {"xsub": lambda m: m["subject"] in TRAIN_SUBJECTS,
             "xview": lambda m: m["camera"] in XVIEW_TRAIN_CAMERAS}
    return RawDataset(layout=NTU25, class_names=list(CLASS_NAMES), sequences=sequences,
                      splits=rule_splits(sequences, rules),
                      source={"format": "synthetic", "seed": seed, "per_class": per_class,
                              "dims": dims})
