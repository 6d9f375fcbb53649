import numpy as np
import pytest

from conftest import NTU_SAMPLES, TRUNCATED_NTU, needs_ntu, write_skeleton
from skelssl.data.readers.ntu import (
    motion_energy,
    ntu_splits,
    parse_name,
    read_bodies,
    read_file,
    read_ntu,
    select_bodies,
)
from skelssl.errors import SampleError


@needs_ntu
def test_intact_samples_parse_with_frame_counts_bodies_and_metadata():
    dataset, damaged = read_ntu(NTU_SAMPLES, 60, workers=2)
    assert sorted(e.source.split("/")[-1][:-9] for e in damaged) == sorted(TRUNCATED_NTU)
    assert len(dataset.sequences) == 8
    for seq in dataset.sequences:
        path = NTU_SAMPLES / f"{seq.name}.skeleton"
        frame_count = int(path.read_text().split("\n", 1)[0])
        assert seq.joints.shape == (2, frame_count, 25, 3)
        assert seq.label == int(seq.name[-3:]) - 1
        assert seq.meta["subject"] == int(seq.name[9:12])
        assert seq.meta["camera"] == int(seq.name[5:8])
    by_name = {s.name: s for s in dataset.sequences}
    two = by_name["S002C002P009R001A056"]  # "giving something to other person"
    assert two.meta["bodies"] == 2 and np.abs(two.joints[1]).sum() > 0
    one = by_name["S001C002P003R002A013"]
    assert one.meta["bodies"] == 1 and np.abs(one.joints[1]).sum() == 0
    assert dataset.class_names[one.label] == "tear up paper"
    first = one.joints[0, 0, 0]  # first joint of the first frame, as written in the file
    written = (NTU_SAMPLES / "S001C002P003R002A013.skeleton").read_text().split("\n")[4]
    np.testing.assert_allclose(first, [float(v) for v in written.split()[:3]], rtol=1e-6)


@needs_ntu
@pytest.mark.parametrize("name, frame", [(TRUNCATED_NTU[0], 44), (TRUNCATED_NTU[1], 101)])
def test_truncated_samples_are_reported_with_frame_and_expectation(name, frame):
    with pytest.raises(SampleError) as info:
        read_file(NTU_SAMPLES / f"{name}.skeleton")
    message = str(info.value)
    assert name in message and f"frame {frame} of" in message
    assert "expected 25 joints of 12 values" in message and "truncated" in message


def test_most_active_bodies_are_kept_in_order(tmp_path):
    rng = np.random.default_rng(0)
    still, lively, medium = (np.ones((25, 3)), None, None)
    frames = []
    for _ in range(5):
        lively = rng.normal(0, 1.0, (25, 3))
        medium = rng.normal(0, 0.1, (25, 3)) + 2
        frames.append([still, lively, medium])
    path = write_skeleton(tmp_path / "S001C001P001R001A050.skeleton", frames)
    bodies = read_bodies(path)
    assert bodies.shape == (4, 5, 25, 3) and np.abs(bodies[3]).sum() == 0
    energy = motion_energy(bodies)
    assert energy[1] > energy[2] > energy[0] == 0
    kept = select_bodies(bodies, 2, "most-active")
    np.testing.assert_array_equal(kept, bodies[[1, 2]])
    np.testing.assert_array_equal(select_bodies(bodies, 2, "first"), bodies[[0, 1]])
    seq = read_file(path)
    assert seq.meta["bodies"] == 3 and seq.label == 49


def test_file_without_any_skeleton_is_detected(tmp_path):
    path = write_skeleton(tmp_path / "S001C001P001R001A001.skeleton", [[], [], []])
    assert read_file(path) is None
    dataset, damaged = read_ntu(tmp_path, 60, workers=1)
    assert not damaged and not dataset.sequences
    assert dataset.excluded == [{"file": path.name, "reason": "no skeleton in any frame"}]


def test_wrong_joint_count_is_reported(tmp_path):
    path = write_skeleton(tmp_path / "S001C001P001R001A001.skeleton", [[np.ones((20, 3))]],
                          joints=20)
    with pytest.raises(SampleError, match="frame 1 of 1, body 1 of 1: 20 joints, expected 25"):
        read_file(path)


def test_extra_values_and_bad_names_are_reported(tmp_path):
    path = write_skeleton(tmp_path / "S001C001P001R001A001.skeleton", [[np.ones((25, 3))]])
    path.write_text(path.read_text() + "7 7\n")
    with pytest.raises(SampleError, match="2 unexpected values after frame 1"):
        read_file(path)
    with pytest.raises(SampleError, match="SsssCcccPpppRrrrAaaa"):
        parse_name("clip_01")


def test_ntu60_ignores_ntu120_files_and_honours_exclusions(tmp_path):
    body = [[np.ones((25, 3)) * 0.5]]
    write_skeleton(tmp_path / "S001C001P001R001A001.skeleton", body)
    write_skeleton(tmp_path / "S001C002P002R001A002.skeleton", body)
    write_skeleton(tmp_path / "S018C001P001R001A061.skeleton", body)
    dataset, _ = read_ntu(tmp_path, 60, exclude={"S001C002P002R001A002"}, workers=1)
    assert [s.name for s in dataset.sequences] == ["S001C001P001R001A001"]
    assert dataset.excluded[0]["reason"] == "in the exclusion list"
    dataset120, _ = read_ntu(tmp_path, 120, workers=1)
    assert len(dataset120.sequences) == 3 and len(dataset120.class_names) == 120


def test_ntu_splits_follow_the_benchmarks():
    from skelssl.data.sequence import Sequence

    def seq(name):
        return Sequence(name, np.zeros((2, 1, 25, 3)), 0, parse_name(name))

    names = ["S001C001P001R001A001", "S002C002P003R001A001", "S003C003P045R001A001"]
    sixty = ntu_splits([seq(n) for n in names], 60)
    assert sixty["xsub"] == {"train": [0], "test": [1, 2]}
    assert sixty["xview"] == {"train": [1, 2], "test": [0]}
    twenty = ntu_splits([seq(n) for n in names], 120)
    assert twenty["xsub"] == {"train": [0, 2], "test": [1]}
    assert twenty["xset"] == {"train": [1], "test": [0, 2]}
