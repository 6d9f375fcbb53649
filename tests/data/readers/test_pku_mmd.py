"""PKU-MMD reader against files assembled from real NTU samples (both ntu25, metres)."""

import numpy as np
import pytest

from conftest import NTU_SAMPLES, needs_ntu
from skelssl.data.dataset import PreparedDataset
from skelssl.data.prepare import PrepareOptions, prepare
from skelssl.data.readers.ntu import read_bodies
from skelssl.data.readers.pku_mmd import read_intervals, read_pku_mmd, read_skeleton, read_split
from skelssl.errors import DamagedDataError, PrepareError, SampleError

SAMPLES = ("S001C002P003R002A013", "S002C002P009R001A056", "S010C003P007R002A021")
GAP = 7  # background frames before, between and after the actions


def ntu_persons(name):
    """The first two body slots of a real NTU sample, (2, T, 25, 3)."""
    return read_bodies(NTU_SAMPLES / f"{name}.skeleton")[:2]


def write_untrimmed(folder, stem, actions):
    """A PKU-format sequence of NTU samples separated by GAP still frames; its label file.
    Returns the joints (2, T, 25, 3) and the (action, start, end) intervals written."""
    parts, intervals, start = [], [], GAP
    rest = np.zeros((2, GAP, 25, 3), np.float32)
    rest[0] = ntu_persons(SAMPLES[0])[0, :1]
    for action, name in actions:
        clip = ntu_persons(name)
        parts += [rest, clip]
        intervals.append((action, start, start + clip.shape[1]))
        start += clip.shape[1] + GAP
    joints = np.concatenate([*parts, rest], axis=1)
    rows = joints.transpose(1, 0, 2, 3).reshape(joints.shape[1], 150)
    (folder / "skeleton").mkdir(exist_ok=True)
    (folder / "label").mkdir(exist_ok=True)
    (folder / "skeleton" / f"{stem}.txt").write_text(
        "\n".join(" ".join(f"{v:.6f}" for v in row) for row in rows) + "\n")
    (folder / "label" / f"{stem}.txt").write_text(
        "".join(f"{a},{s},{e},{1 + i % 2}\n" for i, (a, s, e) in enumerate(intervals)))
    return joints, intervals


@pytest.fixture
def pku(tmp_path):
    """Three sequences (two views of one recording, one of another) and a split file."""
    truth = {"0001-L": write_untrimmed(tmp_path, "0001-L", [(5, SAMPLES[0]), (12, SAMPLES[1])]),
             "0001-R": write_untrimmed(tmp_path, "0001-R", [(12, SAMPLES[2])]),
             "0002-M": write_untrimmed(tmp_path, "0002-M", [(30, SAMPLES[1]), (5, SAMPLES[2])])}
    (tmp_path / "cross-subject.txt").write_text(
        "Training videos: \n0001-L, 0001-R\nValidataion videos: \n0002-M\n")
    return tmp_path, truth


@needs_ntu
def test_clips_are_the_labelled_intervals_with_ids_as_classes_and_official_splits(pku):
    folder, truth = pku
    data, damaged = read_pku_mmd(folder / "skeleton", folder / "label",
                                 {"xsub": folder / "cross-subject.txt"}, workers=1)
    assert not damaged
    assert data.class_names == ["A05", "A12", "A30"]  # the ids found, in order
    assert len(data.sequences) == 5
    by_name = {s.name: s for s in data.sequences}
    joints, intervals = truth["0002-M"]
    clip = by_name["0002-M_02"]  # second action of 0002-M in time: (5, ...)
    action, start, end = sorted(intervals, key=lambda i: i[1])[1]
    np.testing.assert_allclose(clip.joints, joints[:, start:end], atol=1e-5)
    assert clip.label == 0 and clip.meta["action"] == 5
    assert clip.meta == {"sequence": "0002", "view": 2, "start": start, "end": end,
                         "confidence": 2, "action": 5}
    assert np.abs(by_name["0001-L_02"].joints[1]).sum() > 0  # the two-person sample
    names = [s.name for s in data.sequences]
    assert [names[i] for i in data.splits["xsub"]["train"]] == [
        "0001-L_01", "0001-L_02", "0001-R_01"]
    assert [names[i] for i in data.splits["xsub"]["test"]] == ["0002-M_01", "0002-M_02"]


@needs_ntu
def test_untrimmed_sequences_keep_every_frame_with_background_zero(pku, tmp_path):
    folder, truth = pku
    out, _ = prepare("pku-mmd", tmp_path / "prepared", PrepareOptions(
        raw=folder / "skeleton", labels=folder / "label", untrimmed=True, workers=1,
        split_files={"xsub": folder / "cross-subject.txt"}))
    data = PreparedDataset.open(out, verify=True)
    assert data.class_names == ["background", "A05", "A12", "A30"]
    assert data.frame_labels is not None
    row = data.names.index("0001-L")
    joints, intervals = truth["0001-L"]
    expected = np.zeros(joints.shape[1], np.int64)
    for action, start, end in intervals:
        expected[start:end] = {5: 1, 12: 2, 30: 3}[action]
    length = data.lengths[row]
    assert length == joints.shape[1]
    np.testing.assert_array_equal(data.frame_labels[row, :length], expected)
    assert (data.frame_labels[row, length:] == -1).all()
    np.testing.assert_allclose(data.joints[row, :, :length].transpose(3, 1, 2, 0), joints,
                               atol=1e-5)
    assert data.labels[row] == np.bincount(expected).argmax()


def test_split_file_sections_and_overlap_are_checked(tmp_path):
    good = tmp_path / "x.txt"
    good.write_text("Training videos: \n0002-L, 0002-M,\n0003-R\nValidation videos: \n0001-L\n")
    assert read_split(good) == ({"0002-L", "0002-M", "0003-R"}, {"0001-L"})
    bad = tmp_path / "bad.txt"
    bad.write_text("Training videos:\n0001-L\n")
    with pytest.raises(PrepareError, match="bad.txt: expected one 'Training videos:'"):
        read_split(bad)
    bad.write_text("Training videos:\n0001-L\nValidataion videos:\n0001-L\n")
    with pytest.raises(PrepareError, match="0001-L is both"):
        read_split(bad)


@pytest.mark.parametrize(("text", "problem"), [
    ("5,10,40,1\n7,30,50,1\n", r"line 2 \(frames 30..50\) overlaps line 1 \(frames 10..40\)"),
    ("5,10,140,1\n", r"line 1: frames 10..140 are empty or outside the sequence's 0..100"),
    ("5,20,20,1\n", "line 1: frames 20..20 are empty"),
    ("5,20,x,1\n", "line 1: '5,20,x,1', expected four integers"),
    ("0,1,2,1\n", "line 1: action 0, expected ≥ 1"),
    ("\n", "no action interval"),
])
def test_damaged_label_files_name_the_line(tmp_path, text, problem):
    path = tmp_path / "0001-L.txt"
    path.write_text(text)
    with pytest.raises(SampleError, match=problem):
        read_intervals(path, 100)


def test_damaged_skeleton_lines_are_reported_and_skippable(tmp_path):
    for sub in ("skeleton", "label"):
        (tmp_path / sub).mkdir()
    good = np.arange(150, dtype=np.float32) / 100 + 0.01
    (tmp_path / "skeleton" / "0001-L.txt").write_text(
        " ".join(map(str, good)) + "\n" + " ".join(map(str, good[:149])) + "\n")
    (tmp_path / "skeleton" / "0002-L.txt").write_text((" ".join(map(str, good)) + "\n") * 3)
    for stem in ("0001-L", "0002-L"):
        (tmp_path / "label" / f"{stem}.txt").write_text("3,0,2,1\n")
    with pytest.raises(SampleError, match="0001-L.txt: line 2: 149 values, expected 150"):
        read_skeleton(tmp_path / "skeleton" / "0001-L.txt")
    opts = PrepareOptions(raw=tmp_path / "skeleton", labels=tmp_path / "label", workers=1)
    with pytest.raises(DamagedDataError, match="0001-L.txt"):
        prepare("pku-mmd", tmp_path / "out", opts)
    opts.skip_damaged = True
    out, _ = prepare("pku-mmd", tmp_path / "out", opts)
    data = PreparedDataset.open(out)
    assert data.names == ["0002-L_01"] and data.meta["skipped"][0]["file"].endswith("0001-L.txt")
    (tmp_path / "label" / "0002-L.txt").unlink()
    with pytest.raises(PrepareError, match="no label file for 1 skeleton files, e.g. 0002-L.txt"):
        prepare("pku-mmd", tmp_path / "out2", opts)


@needs_ntu
def test_cli_reads_split_lists_and_action_names(pku, tmp_path):
    from typer.testing import CliRunner

    from skelssl.cli import app

    folder, _ = pku
    names = tmp_path / "actions.csv"
    names.write_text("Label,Action\n5,drop\n12,hand waving\n30,point to something\n")
    out = tmp_path / "cli"
    result = CliRunner().invoke(app, [
        "prepare", "pku-mmd", "--raw", str(folder / "skeleton"), "--labels",
        str(folder / "label"), "--split", f"xsub={folder / 'cross-subject.txt'}",
        "--class-names", str(names), "--workers", "1", "--out", str(out)])
    assert result.exit_code == 0, result.output
    data = PreparedDataset.open(out)
    assert data.class_names == ["drop", "hand waving", "point to something"]
    assert len(data.indices("xsub", "test")) == 2
    result = CliRunner().invoke(app, ["prepare", "pku-mmd", "--raw", str(folder / "skeleton"),
                                      "--split", "xsub", "--out", str(tmp_path / "bad")])
    assert result.exit_code != 0 and "expected NAME=FILE" in result.output
    names.write_text("5,drop\n")
    with pytest.raises(PrepareError, match="actions.csv: no name for action id 12"):
        read_pku_mmd(folder / "skeleton", folder / "label", {}, class_names=names, workers=1)
