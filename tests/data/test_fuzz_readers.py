"""Every reader on seeded damaged variants of intact files (fixtures written here, and the real
files when ../shared/data is present): the same sequences, or one line naming the file — never
a traceback or silently different data. The slow variant tries ten times as many."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from conftest import NTU_SAMPLES, NW_UCLA, write_skeleton
from fuzzing import array_variants, binary_variants, fuzz, text_variants
from skelssl.data.readers.ctrgcn_npz import read_ctrgcn_npz
from skelssl.data.readers.custom import read_custom
from skelssl.data.readers.npy import read_npy
from skelssl.data.readers.ntu import read_file as read_ntu_file
from skelssl.data.readers.nw_ucla import read_file as read_ucla_file

FAST, SLOW = 36, 360


def ntu_fixture(folder: Path) -> Path:
    rng = np.random.default_rng(0)
    frames = [[rng.normal(size=(25, 3)) * 0.3, rng.normal(size=(25, 3)) * 0.3] for _ in range(4)]
    return write_skeleton(folder / "S001C002P003R001A050.skeleton", frames)


def ucla_fixture(folder: Path) -> Path:
    rng = np.random.default_rng(1)
    path = folder / "a02_s03_e01_v02.json"
    path.write_text(json.dumps({"file_name": "a02_s03_e01_v02", "label": 2,
                                "skeletons": np.round(rng.normal(size=(5, 20, 3)), 4).tolist()}))
    return path


def sources(fixture, real: list[Path], folder: Path) -> list[Path]:
    return [fixture(folder)] + [p for p in real if p.is_file()]


def run_text(read, paths: list[Path], count: int, tmp_path: Path) -> Counter:
    counts: Counter = Counter()
    for i, path in enumerate(paths):
        clean = read(path)
        work = tmp_path / f"work{i}"
        work.mkdir()
        counts += fuzz(read, text_variants(path.read_bytes(), count, seed=i), work, path.name,
                       clean)
    return counts


def ntu_outcomes(count: int, tmp_path: Path) -> Counter:
    real = sorted(NTU_SAMPLES.glob("*.skeleton"))[:1] if NTU_SAMPLES.is_dir() else []
    return run_text(read_ntu_file, sources(ntu_fixture, real, tmp_path), count, tmp_path)


def ucla_outcomes(count: int, tmp_path: Path) -> Counter:
    real = sorted(NW_UCLA.glob("*.json"))[:1] if NW_UCLA.is_dir() else []
    return run_text(read_ucla_file, sources(ucla_fixture, real, tmp_path), count, tmp_path)


def custom_arrays() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(2)
    joints = rng.normal(size=(4, 6, 20, 3)).astype(np.float32)
    joints[1, 4:] = 0
    return {"joints": joints, "lengths": np.array([6, 4, 6, 5]), "labels": np.array([0, 1, 2, 1]),
            "layout": np.array("ucla20")}


def custom_outcomes(count: int, tmp_path: Path) -> Counter:
    arrays = custom_arrays()
    intact = tmp_path / "mine.npz"
    np.savez(intact, **arrays)
    clean = read_custom(intact)
    counts = fuzz(read_custom, binary_variants(intact.read_bytes(), count // 2, 3), tmp_path,
                  "mine.npz", clean)
    work = tmp_path / "work"  # the same file name: sample names derive from it
    work.mkdir()
    for key in ("joints", "labels", "lengths"):
        for description, damaged in array_variants(arrays, key, count // 6, 4):
            np.savez(work / "mine.npz", **damaged)
            counts += fuzz(read_custom, [(description, (work / "mine.npz").read_bytes())],
                           work, "mine.npz", clean)
    return counts


def npy_outcomes(count: int, tmp_path: Path) -> Counter:
    x = custom_arrays()["joints"].transpose(0, 3, 1, 2)[..., None]  # (N, C, T, V, M)
    np.save(tmp_path / "data.npy", x)
    np.save(tmp_path / "labels.npy", np.array([0, 1, 2, 1]))

    def read(path: Path):
        return read_npy(path, tmp_path / "labels.npy", layout="ucla20")

    clean = read(tmp_path / "data.npy")
    counts = fuzz(read, binary_variants((tmp_path / "data.npy").read_bytes(), count // 2, 5),
                  tmp_path, "data.npy", clean)
    for description, damaged in array_variants({"x": x}, "x", count // 2, 6):
        np.save(tmp_path / "damaged.npy", damaged["x"])
        counts += fuzz(read, [(description, (tmp_path / "damaged.npy").read_bytes())],
                       tmp_path, "damaged.npy", clean)
    return counts


def ctrgcn_outcomes(count: int, tmp_path: Path) -> Counter:
    x = custom_arrays()["joints"]  # (N, T, V, C) → (N, T, V·C) for one person
    flat = x.reshape(4, 6, 60)
    arrays = {"x_train": flat[:3], "y_train": np.eye(3)[[0, 1, 2]], "x_test": flat[3:],
              "y_test": np.eye(3)[[1]]}
    intact = tmp_path / "NTU.npz"
    np.savez(intact, **arrays)

    def read(path: Path):
        return read_ctrgcn_npz(path, layout="ucla20")

    clean = read(intact)
    counts = fuzz(read, binary_variants(intact.read_bytes(), count // 2, 7), tmp_path, "NTU.npz",
                  clean)
    for key in ("x_train", "y_train"):
        for description, damaged in array_variants(arrays, key, count // 4, 8):
            path = tmp_path / "damaged.npz"
            np.savez(path, **damaged)
            counts += fuzz(read, [(description, path.read_bytes())], tmp_path, "damaged.npz",
                           clean)
    return counts


READERS = {"ntu": ntu_outcomes, "nw-ucla": ucla_outcomes, "custom": custom_outcomes,
           "npy": npy_outcomes, "ctrgcn-npz": ctrgcn_outcomes}


@pytest.mark.parametrize("reader", list(READERS))
def test_damaged_files_read_the_same_or_fail_in_one_line(reader, tmp_path):
    counts = READERS[reader](FAST, tmp_path)
    assert sum(counts.values()) >= FAST * 0.8 and counts["error"] + counts["recorded"] > 0


@pytest.mark.slow
@pytest.mark.parametrize("reader", list(READERS))
def test_many_damaged_files_read_the_same_or_fail_in_one_line(reader, tmp_path):
    counts = READERS[reader](SLOW, tmp_path)
    print(f"fuzz {reader}: {sum(counts.values())} tried, {dict(counts)}")
    assert sum(counts.values()) >= SLOW * 0.8
