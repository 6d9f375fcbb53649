"""A prepared dataset seen in another skeleton layout (for transfer between datasets).

Each joint of the new layout takes the data's joint of the same name, of a synonym (Kinect v1
and v2 name the spine joints differently) or of the name a joint map gives; a joint the data
lacks (NTU's neck or hand tips in NW-UCLA data) takes the position of its nearest ancestor that
it has, so bones to it are zero rather than wild. ``project`` also turns 3-D camera
coordinates (metres, z away from the sensor) into the 2-D keypoints a pinhole colour camera
would see (as the synthetic set's ``--dims 2``).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
from tqdm import tqdm

from skelssl.data.dataset import PreparedDataset
from skelssl.data.sequence import RawDataset, Sequence
from skelssl.data.synthetic import project
from skelssl.errors import PrepareError
from skelssl.skeleton import Layout, load_layout

# Joints that are the same body point under different names (Kinect v2 ↔ Kinect v1).
SYNONYMS = ({"spine_base", "hip_center"}, {"spine_mid", "spine"},
            {"spine_shoulder", "shoulder_center"})


def read_joint_map(path: str | Path) -> dict[str, str]:
    """``layout_joint,data_joint`` lines (``#`` comments) as a dict."""
    out = {}
    for number, line in enumerate(Path(path).read_text().splitlines(), start=1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        parts = [p.strip() for p in line.split(",")]
        if len(parts) != 2 or not all(parts):
            raise PrepareError(f"{path}, line {number}: expected 'layout_joint,data_joint'")
        out[parts[0]] = parts[1]
    return out


def joint_mapping(layout: Layout, data: Layout, joint_map: dict[str, str] | None = None
                  ) -> tuple[list[int], list[str]]:
    """For each joint of ``layout``, the index of the ``data`` joint it reads, and notes on
    the joints filled from an ancestor."""
    joint_map = joint_map or {}
    for name, source in joint_map.items():
        if name not in layout.joint_names:
            raise PrepareError(f"joint map: {name!r} is not a joint of layout {layout.name!r}")
        if source not in data.joint_names:
            raise PrepareError(f"joint map: {source!r} is not a joint of the data's layout "
                               f"{data.name!r}")
    direct: dict[int, int] = {}
    for v, name in enumerate(layout.joint_names):
        names = {joint_map[name]} if name in joint_map else \
            next((group for group in SYNONYMS if name in group), {name})
        found = [data.joint_names.index(n) for n in names if n in data.joint_names]
        if found:
            direct[v] = found[0]
    if layout.center not in direct:
        raise PrepareError(f"the data's layout {data.name!r} has no joint for the centre "
                           f"{layout.joint_names[layout.center]!r} of {layout.name!r}; give "
                           "a joint map (--joint-map FILE of 'layout_joint,data_joint' lines)")
    index, filled = [], []
    for v in range(layout.num_joints):
        j = v
        while j not in direct:
            j = layout.parents[j]
        index.append(direct[j])
        if j != v:
            filled.append(f"{layout.joint_names[v]} ← {layout.joint_names[j]}")
    notes = [f"joints of {layout.name!r} that {data.name!r} lacks take their nearest ancestor's "
             f"position: {', '.join(filled)}"] if filled else []
    return index, notes


def relayout(path: str | Path, layout: str, joint_map: Path | None = None,
             project_2d: bool = False) -> RawDataset:
    """The prepared dataset at ``path`` with its joints re-ordered into ``layout`` (and
    projected to 2-D keypoints with ``project_2d``)."""
    data = PreparedDataset.open(path)
    if project_2d and (data.channels != 3 or data.layout.scores):
        raise PrepareError(f"{path}: --project needs 3-D coordinates, the data has C = "
                           f"{data.channels}" + (" with a confidence channel"
                                                 if data.layout.scores else ""))
    target = replace(load_layout(layout), scores=data.layout.scores)
    index, notes = joint_mapping(target, data.layout,
                                 read_joint_map(joint_map) if joint_map else None)
    samples = data.meta["samples"]
    extra = [k for k in samples if k not in ("name", "persons")]
    sequences = []
    for i in tqdm(range(len(data)), desc="relayout", unit="seq", disable=None):
        length = int(data.lengths[i])
        joints = np.asarray(data.joints[i, :, :length][:, :, index]).transpose(3, 1, 2, 0)
        if project_2d:
            joints = project(joints)
        frames = None if data.frame_labels is None else np.array(data.frame_labels[i, :length])
        sequences.append(Sequence(data.names[i], np.ascontiguousarray(joints),
                                  int(data.labels[i]), {k: samples[k][i] for k in extra},
                                  frame_labels=frames))
    return RawDataset(layout=target, class_names=data.class_names, sequences=sequences,
                      splits=data.splits, excluded=data.meta.get("excluded", []),
                      notes=data.meta.get("notes", []) + notes + (
                          ["3-D coordinates projected to 2-D keypoints (pinhole camera, 1920 × "
                           "1080, focal length 1000 pixels)"] if project_2d else []))
