"""A human-readable summary of a prepared dataset (``skelssl inspect``)."""

from __future__ import annotations

from collections import Counter

import numpy as np

from skelssl.data.dataset import PreparedDataset


def summarize(data: PreparedDataset, max_classes: int = 20) -> str:
    """Samples per split, classes, length statistics, persons and layout, as text lines."""
    meta, shape = data.meta, data.meta["shape"]
    lengths = data.lengths
    layout = data.layout
    source = ", ".join(f"{k}={v}" for k, v in meta["source"].items() if v is not None)
    counts = Counter(data.labels.tolist())
    classes = [f"{i:>3} {name} ({counts.get(i, 0)})" for i, name in enumerate(data.class_names)]
    if len(classes) > max_classes:
        classes = classes[:max_classes] + [f"    ... {len(classes) - max_classes} more"]
    persons = Counter(meta["samples"]["persons"])
    lines = [
        f"dataset   {data.path or '(in memory)'}",
        f"source    {source}",
        f"layout    {layout.name}: {layout.num_joints} joints, centre "
        f"{layout.joint_names[layout.center]}",
        f"samples   {len(data)} · {layout.coordinates(shape['C'])} coordinates"
        + (" + confidence" if layout.scores else "") + f" · up to {shape['T']} frames · "
        f"up to {shape['M']} persons",
        f"lengths   min {lengths.min()} · median {int(np.median(lengths))} · "
        f"mean {lengths.mean():.1f} · max {lengths.max()} frames",
        "persons   " + " · ".join(f"{n} sample(s) with {k}" for k, n in sorted(persons.items())),
    ]
    for benchmark, parts in meta["splits"].items():
        lines.append(f"split     {benchmark}: " +
                     " · ".join(f"{part} {len(idx)}" for part, idx in parts.items()))
    if not meta["splits"]:
        lines.append("split     none (all samples unlabelled for evaluation purposes)")
    lines.append(f"skipped   {len(meta['skipped'])} damaged · {len(meta['excluded'])} excluded")
    lines += [f"          - {s['file']}: {s['reason']}" for s in
              (meta["skipped"] + meta["excluded"])[:10]]
    lines.append(f"classes   {data.num_classes}")
    lines += [f"        {c}" for c in classes]
    return "\n".join(lines)
