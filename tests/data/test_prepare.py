import json
import shutil

import numpy as np
import pytest

from conftest import NTU_SAMPLES, NW_UCLA, TRUNCATED_NTU, needs_ntu, needs_ucla
from skelssl.data import prepare as prepare_module
from skelssl.data.dataset import PreparedDataset
from skelssl.data.prepare import (
    DamagedDataError,
    PrepareError,
    PrepareOptions,
    prepare,
    write_prepared,
)
from skelssl.errors import DatasetError


def test_round_trip_matches_the_raw_sequences(tmp_path, small_synthetic):
    out = write_prepared(small_synthetic, tmp_path / "syn")
    data = PreparedDataset.open(out, verify=True)
    n = len(small_synthetic.sequences)
    assert data.joints.shape[:2] == (n, 3) and data.joints.shape[3:] == (25, 2)
    assert isinstance(data.joints, np.memmap)
    for i, seq in enumerate(small_synthetic.sequences):
        length = seq.num_frames
        assert data.lengths[i] == length and data.labels[i] == seq.label
        stored = np.asarray(data.joints[i]).transpose(3, 1, 2, 0)  # (M, T, V, C)
        np.testing.assert_array_equal(stored[:, :length], seq.joints)
        assert not stored[:, length:].any()
    assert data.splits == small_synthetic.splits and data.class_names[0] == "wave right hand"
    in_memory = PreparedDataset.from_raw(small_synthetic)
    np.testing.assert_array_equal(in_memory.joints, data.joints)


def test_checksum_detects_a_changed_file(tmp_path, small_synthetic):
    out = write_prepared(small_synthetic, tmp_path / "syn")
    labels = np.load(out / "labels.npy")
    labels[0] += 1
    np.save(out / "labels.npy", labels)
    with pytest.raises(DatasetError, match="checksum differs"):
        PreparedDataset.open(out, verify=True)


def test_interrupted_preparation_leaves_nothing(tmp_path, small_synthetic, monkeypatch):
    def interrupted(sequences, joints):
        raise KeyboardInterrupt

    monkeypatch.setattr(prepare_module, "fill_padded", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_prepared(small_synthetic, tmp_path / "syn")
    assert list(tmp_path.iterdir()) == []


def test_existing_output_rules(tmp_path):
    opts = PrepareOptions(per_class=2, seed=1)
    out, written = prepare("synthetic", tmp_path / "syn", opts)
    assert written
    stamp = (out / "meta.json").stat().st_mtime_ns
    assert prepare("synthetic", out, opts) == (out, False)  # same dataset: nothing to do
    assert (out / "meta.json").stat().st_mtime_ns == stamp
    with pytest.raises(PrepareError, match="already holds a different dataset"):
        prepare("synthetic", out, PrepareOptions(per_class=2, seed=2))
    out2, written = prepare("synthetic", out, PrepareOptions(per_class=2, seed=2,
                                                             overwrite=True))
    assert written and json.loads((out2 / "meta.json").read_text())["source"]["seed"] == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["syn"]  # no leftovers
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("mine")
    with pytest.raises(PrepareError, match="not an empty directory nor a prepared dataset"):
        prepare("synthetic", tmp_path / "other", opts)


def test_unknown_format_names_the_closest(tmp_path):
    with pytest.raises(PrepareError, match="Did you mean 'nw-ucla'"):
        prepare("nwucla", tmp_path / "x")


@needs_ntu
def test_damaged_ntu_files_stop_preparation_unless_skipped(tmp_path):
    raw = tmp_path / "raw"
    shutil.copytree(NTU_SAMPLES, raw)
    with pytest.raises(DamagedDataError) as info:
        prepare("ntu60", tmp_path / "ntu", PrepareOptions(raw=raw, workers=2))
    message = str(info.value)
    assert "2 damaged sample(s)" in message and "--skip-damaged" in message
    assert all(name in message for name in TRUNCATED_NTU)
    assert not (tmp_path / "ntu").exists()
    out, _ = prepare("ntu60", tmp_path / "ntu",
                     PrepareOptions(raw=raw, workers=2, skip_damaged=True))
    data = PreparedDataset.open(out, verify=True)
    assert len(data) == 8 and data.joints.shape == (8, 3, 147, 25, 2)
    assert sorted(s["file"].split("/")[-1][:-9] for s in data.meta["skipped"]) == \
        sorted(TRUNCATED_NTU)
    assert set(data.splits) == {"xsub", "xview"}
    assert data.meta["samples"]["subject"][data.names.index("S013C001P007R001A031")] == 7


@needs_ucla
@pytest.mark.slow
def test_nw_ucla_prepares_completely(tmp_path):
    out, _ = prepare("nw-ucla", tmp_path / "ucla", PrepareOptions(raw=NW_UCLA, workers=2))
    data = PreparedDataset.open(out)
    assert len(data) == 1484 and data.num_classes == 10
    assert len(data.indices("view3", "train")) == 1020
    assert len(data.indices("view3", "test")) == 464
    assert data.joints.shape == (1484, 3, 201, 20, 1) and data.lengths.min() == 1
