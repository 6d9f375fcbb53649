"""Raw skeleton data → prepared dataset on disk (the one format training reads).

A prepared dataset is a directory with ``joints.npy`` (N, C, T_max, V, M) float32 (read
memory-mapped), ``lengths.npy``, ``labels.npy`` and ``meta.json`` (layout, class names, splits,
per-sample metadata, source, format version, checksums). It is written to a temporary sibling
directory and renamed into place at the end, so an interrupted run leaves nothing half-written.
"""

from __future__ import annotations

import difflib
import json
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from skelssl.data.sequence import RawDataset, Sequence, rule_splits
from skelssl.data.spill import Spill
from skelssl.data.store import (
    ARRAY_FILES,
    FRAME_LABELS,
    build_meta,
    file_checksum,
    fill_padded,
    padded_frame_labels,
    padded_shape,
)
from skelssl.errors import DamagedDataError, PrepareError, SampleError
from skelssl.skeleton import Layout

FORMATS = ("ntu60", "ntu120", "nw-ucla", "pku-mmd", "asf-amc", "npy", "ctrgcn-npz", "pyskl",
           "custom", "relayout", "synthetic")




@dataclass
class PrepareOptions:
    """Everything ``skelssl prepare`` may be told; each format reads the fields it needs."""

    raw: Path | None = None
    labels: Path | None = None
    test_raw: Path | None = None
    test_labels: Path | None = None
    layout: str | None = None
    benchmark: str = "default"
    body_selection: str = "most-active"
    exclude: Path | None = None
    workers: int | None = None
    split_files: dict[str, Path] = field(default_factory=dict)  # pku-mmd: benchmark -> file
    untrimmed: bool = False  # pku-mmd: whole sequences with per-frame labels
    class_names: Path | None = None  # pku-mmd: 'id,name' lines
    joint_map: Path | None = None  # relayout: 'layout_joint,data_joint' lines
    project: bool = False  # relayout: 3-D camera coordinates → 2-D keypoints
    scores: bool = False  # pyskl, custom: keep each keypoint's confidence as a last channel
    joint_order: str | None = None  # the data's joint order: names or a 1-based permutation
    rules: list[str] = field(default_factory=list)  # benchmarks NAME:KEY=V1,V2 from metadata
    seed: int = 0
    per_class: int = 100
    dims: int = 3  # synthetic: 3-D joints or 2-D keypoints
    skip_damaged: bool = False
    overwrite: bool = False
    allow_pickle: bool = False  # custom: read object arrays by unpickling (trusted files only)


def check_format(name: str) -> str:
    """``name`` if it is a known format, else a :class:`PrepareError` with the closest one."""
    if name not in FORMATS:
        close = difflib.get_close_matches(name, FORMATS, n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise PrepareError(f"unknown format {name!r}: expected one of {', '.join(FORMATS)}."
                           + hint)
    return name


def read_raw(fmt: str, opts: PrepareOptions, spill: Spill | None = None
             ) -> tuple[RawDataset, list[SampleError]]:
    """Run the reader of format ``fmt``; returns the dataset and the damaged samples. Readers
    of many files keep what they read in ``spill`` (on disk) instead of in memory."""
    check_format(fmt)
    if fmt == "synthetic":
        from skelssl.data.synthetic import make_synthetic

        return make_synthetic(per_class=opts.per_class, seed=opts.seed, dims=opts.dims), []
    if opts.raw is None:
        raise PrepareError(f"format {fmt!r} needs --raw PATH")
    if fmt in ("ntu60", "ntu120"):
        from skelssl.data.readers.ntu import read_exclusion_list, read_ntu

        exclude = read_exclusion_list(opts.exclude) if opts.exclude else set()
        return read_ntu(opts.raw, int(fmt[3:]), opts.body_selection, exclude, opts.workers,
                        spill)
    if fmt == "nw-ucla":
        from skelssl.data.readers.nw_ucla import read_nw_ucla

        return read_nw_ucla(opts.raw, opts.workers, spill)
    if fmt == "pku-mmd":
        from skelssl.data.readers.pku_mmd import read_pku_mmd

        if opts.labels is None:
            raise PrepareError("format 'pku-mmd' needs --labels LABEL_FOLDER")
        return read_pku_mmd(opts.raw, opts.labels, opts.split_files, opts.untrimmed,
                            opts.class_names, opts.workers, spill)
    if fmt == "asf-amc":
        from skelssl.data.readers.asf_amc import read_asf_amc

        if opts.labels is None:
            raise PrepareError("format 'asf-amc' needs --labels CLASSES.csv (motion,class[,fold])")
        return read_asf_amc(opts.raw, opts.labels, opts.workers, spill)
    if fmt == "npy":
        from skelssl.data.readers.npy import read_npy

        if opts.labels is None:
            raise PrepareError("format 'npy' needs --labels LABELS.npy|.pkl")
        return read_npy(opts.raw, opts.labels, opts.test_raw, opts.test_labels, opts.layout,
                        opts.benchmark)
    if fmt == "ctrgcn-npz":
        from skelssl.data.readers.ctrgcn_npz import read_ctrgcn_npz

        return read_ctrgcn_npz(opts.raw, opts.layout or "ntu25", benchmark=opts.benchmark)
    if fmt == "relayout":
        from skelssl.data.relayout import relayout

        if opts.layout is None:
            raise PrepareError("format 'relayout' needs --layout NAME_OR_YAML (the new layout)")
        return relayout(opts.raw, opts.layout, opts.joint_map, opts.project), []
    if fmt == "pyskl":
        from skelssl.data.readers.pyskl import read_pyskl

        return read_pyskl(opts.raw, opts.layout, opts.scores)
    from skelssl.data.readers.custom import read_custom

    return read_custom(opts.raw, opts.layout, opts.allow_pickle, opts.scores)


def joint_order_index(spec: str, layout: Layout) -> list[int]:
    """For each joint of ``layout``, its position in data whose joints come in the order
    ``spec`` names (``name,name,...``) or maps onto the layout (``3,1,2,...``: the data's k-th
    joint is the layout's joint p_k, 1-based)."""
    items = [item.strip() for item in spec.split(",") if item.strip()]
    count = layout.num_joints
    if len(items) != count:
        raise PrepareError(f"--joint-order lists {len(items)} joints; layout {layout.name!r} "
                           f"has {count}")
    if all(item.isdigit() for item in items):
        targets = [int(item) - 1 for item in items]
        if sorted(targets) != list(range(count)):
            raise PrepareError(f"--joint-order: expected a permutation of 1..{count}")
        order = [0] * count
        for k, v in enumerate(targets):
            order[v] = k
        return order
    missing = [n for n in layout.joint_names if n not in items]
    if missing or len(set(items)) != count:
        raise PrepareError(f"--joint-order: expected each joint of layout {layout.name!r} once; "
                           f"{'missing ' + repr(missing[0]) if missing else 'names repeat'}")
    return [items.index(name) for name in layout.joint_names]


def reorder_joints(raw: RawDataset, spec: str) -> None:
    """Put every sequence's joints into the layout's order (see :func:`joint_order_index`)."""
    order = joint_order_index(spec, raw.layout)
    for seq in raw.sequences:
        seq.joints = np.ascontiguousarray(seq.joints[:, :, order])
    raw.notes.append(f"joints re-ordered from the --joint-order given into {raw.layout.name!r}")


def rule_benchmarks(sequences: list[Sequence], rules: list[str]
                    ) -> dict[str, dict[str, list[int]]]:
    """Benchmarks from metadata: ``NAME:KEY=V1,V2`` trains on samples whose KEY is one of the
    values and tests on the others."""
    parsed = {}
    for rule in rules:
        name, _, condition = rule.partition(":")
        key, _, values = condition.partition("=")
        if not name or not key or not values:
            raise PrepareError(f"--rule {rule!r}: expected NAME:KEY=VALUE[,VALUE...]")
        if not any(key in s.meta for s in sequences):
            keys = sorted({k for s in sequences for k in s.meta})
            raise PrepareError(f"--rule {rule!r}: no sample has metadata {key!r} (found: "
                               f"{', '.join(keys) or 'none'})")
        chosen = frozenset(v.strip() for v in values.split(","))
        parsed[name] = partial(_meta_in, key, chosen)
    return rule_splits(sequences, parsed)


def _meta_in(key: str, values: frozenset[str], meta: dict[str, Any]) -> bool:
    return str(meta.get(key)) in values

def _existing_source(out: Path) -> dict[str, Any] | None:
    meta = out / "meta.json"
    if not meta.is_file():
        return None
    try:
        return json.loads(meta.read_text()).get("source")
    except (json.JSONDecodeError, AttributeError):
        return None


def user_mode(directory: bool = False) -> int:
    """The permissions a new file (or directory) gets under the user's umask."""
    umask = os.umask(0)
    os.umask(umask)
    return (0o777 if directory else 0o666) & ~umask


def remove_stale(out: Path) -> None:
    """Remove what an interrupted preparation into ``out`` left beside it (its process is
    gone): ``.NAME.partial-PID-*`` and ``.NAME.old-PID`` folders."""
    for leftover in out.parent.glob(f".{out.name}.*"):
        kind, _, rest = leftover.name.removeprefix(f".{out.name}.").partition("-")
        pid = rest.split("-")[0]
        if kind not in ("partial", "old") or not pid.isdigit() or _alive(int(pid)):
            continue
        shutil.rmtree(leftover, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def write_prepared(raw: RawDataset, out: str | Path, overwrite: bool = False) -> Path:
    """Write ``raw`` as a prepared dataset at ``out``, atomically."""
    out = Path(out)
    if not raw.sequences:
        raise PrepareError("no usable sequence to write")
    shape = padded_shape(raw)
    out.parent.mkdir(parents=True, exist_ok=True)
    remove_stale(out)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.partial-{os.getpid()}-", dir=out.parent))
    os.chmod(tmp, user_mode(directory=True))
    try:
        joints = np.lib.format.open_memmap(tmp / "joints.npy", mode="w+", dtype=np.float32,
                                           shape=shape)
        fill_padded(raw.sequences, joints)
        joints.flush()
        del joints
        np.save(tmp / "lengths.npy", np.array([s.num_frames for s in raw.sequences], np.int64))
        np.save(tmp / "labels.npy", np.array([s.label for s in raw.sequences], np.int64))
        arrays: tuple[str, ...] = ARRAY_FILES
        if any(s.frame_labels is not None for s in raw.sequences):
            np.save(tmp / FRAME_LABELS, padded_frame_labels(raw.sequences, shape[2]))
            arrays += (FRAME_LABELS,)
        meta = build_meta(raw, shape)
        meta["checksum"] = {"algorithm": "sha256",
                            **{name: file_checksum(tmp / name) for name in arrays}}
        (tmp / "meta.json").write_text(json.dumps(meta, indent=1))
        if out.exists():
            if not overwrite:
                raise PrepareError(f"{out} appeared while preparing; pass --overwrite")
            old = out.with_name(f".{out.name}.old-{os.getpid()}")
            os.replace(out, old)
            os.replace(tmp, out)
            shutil.rmtree(old)
        else:
            os.replace(tmp, out)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)
    return out


def check_output(out: Path, source: dict[str, Any], overwrite: bool) -> bool:
    """True when ``out`` already holds this very dataset; errors when it holds anything else."""
    if not out.exists() or overwrite:
        return False
    if not out.is_dir():
        raise PrepareError(f"--out {out} is a file, expected a directory")
    existing = _existing_source(out)
    if existing == source:
        return True
    if existing is not None:
        raise PrepareError(f"{out} already holds a different dataset (source {existing}); "
                           f"this one is {source}. Choose another --out or pass --overwrite.")
    if any(out.iterdir()):
        raise PrepareError(f"{out} exists and is not an empty directory nor a prepared dataset; "
                           "choose another --out")
    return False


def describe_source(fmt: str, opts: PrepareOptions) -> dict[str, Any]:
    """What a prepared dataset was made from: the format and the options that format reads."""
    fields = {
        "synthetic": ("seed", "per_class", "dims"),
        "ntu60": ("raw", "body_selection", "exclude"),
        "ntu120": ("raw", "body_selection", "exclude"),
        "nw-ucla": ("raw",),
        "pku-mmd": ("raw", "labels", "split_files", "untrimmed", "class_names"),
        "asf-amc": ("raw", "labels"),
        "npy": ("raw", "labels", "test_raw", "test_labels", "layout", "benchmark"),
        "ctrgcn-npz": ("raw", "layout", "benchmark"),
        "pyskl": ("raw", "layout", "scores"),
        "relayout": ("raw", "layout", "joint_map", "project"),
        "custom": ("raw", "layout", "scores"),
    }[check_format(fmt)]
    source: dict[str, Any] = {"format": fmt}
    for name in fields:
        value = getattr(opts, name)
        source[name] = _describe(value)
    if fmt == "synthetic" and opts.dims == 3:
        del source["dims"]  # so 3-D data prepared before 2-D keypoints existed is recognised
    if opts.joint_order:
        source["joint_order"] = opts.joint_order
    if opts.rules:
        source["rules"] = list(opts.rules)
    return source


def _describe(value: Any) -> Any:
    """An option as JSON: paths resolved, dicts of paths too."""
    if isinstance(value, dict):
        return {k: _describe(v) for k, v in value.items()}
    return str(Path(value).resolve()) if isinstance(value, Path) else value


def prepare(fmt: str, out: str | Path, opts: PrepareOptions | None = None) -> tuple[Path, bool]:
    """Read raw data of format ``fmt`` and write it to ``out``.

    Returns (path, written): ``written`` is False when ``out`` already held the same dataset
    (same format, inputs and options). Damaged samples stop preparation with a list of all of
    them, unless ``skip_damaged``.
    """
    opts = opts or PrepareOptions()
    out = Path(out)
    source = describe_source(fmt, opts)
    if check_output(out, source, opts.overwrite):
        return out, False
    out.parent.mkdir(parents=True, exist_ok=True)
    raw, damaged = read_raw(fmt, opts, Spill(out.parent))
    if damaged and not opts.skip_damaged:
        raise DamagedDataError(damaged)
    if opts.joint_order:
        reorder_joints(raw, opts.joint_order)
    raw.splits.update(rule_benchmarks(raw.sequences, opts.rules))
    for benchmark, parts in raw.splits.items():
        raw.notes += [f"benchmark {benchmark}: the {part} split is empty"
                      for part, index in parts.items() if not index]
    raw.source = source
    raw.skipped = [{"file": e.source, "reason": e.problem} for e in damaged]
    return write_prepared(raw, out, overwrite=opts.overwrite), True
