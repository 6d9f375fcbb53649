"""Relayout: a prepared dataset in another layout, joints matched by name, synonym or map."""

import numpy as np
import pytest

from skelssl.data.dataset import PreparedDataset
from skelssl.data.prepare import PrepareOptions, prepare
from skelssl.data.relayout import joint_mapping
from skelssl.errors import PrepareError
from skelssl.skeleton import CMU31, NTU25, UCLA20


def test_kinect_v2_to_v1_by_names_and_synonyms_and_back_through_ancestors():
    index, notes = joint_mapping(UCLA20, NTU25)
    ntu = NTU25.joint_names
    assert [ntu[i] for i in index][:4] == ["spine_base", "spine_mid", "spine_shoulder", "head"]
    assert ntu[index[UCLA20.joint_names.index("left_wrist")]] == "left_wrist"
    assert not notes
    index, notes = joint_mapping(NTU25, UCLA20)
    ucla = UCLA20.joint_names
    assert ucla[index[ntu.index("neck")]] == "shoulder_center"  # neck → spine_shoulder
    assert ucla[index[ntu.index("left_hand_tip")]] == "left_hand"  # tip → thumb → hand
    assert "neck ← spine_shoulder" in notes[0]


def test_a_joint_map_names_joints_of_other_skeletons():
    with pytest.raises(PrepareError, match="no joint for the centre 'spine_shoulder'"):
        joint_mapping(NTU25, CMU31)
    index, _ = joint_mapping(NTU25, CMU31, {"spine_shoulder": "thorax", "head": "head",
                                            "left_shoulder": "lclavicle"})
    cmu = CMU31.joint_names
    assert cmu[index[NTU25.joint_names.index("left_shoulder")]] == "lclavicle"
    assert cmu[index[NTU25.joint_names.index("left_wrist")]] == "lclavicle"  # ancestor
    with pytest.raises(PrepareError, match="'elbow' is not a joint of layout 'ntu25'"):
        joint_mapping(NTU25, CMU31, {"elbow": "lhumerus"})


def test_prepare_relayout_writes_the_same_sequences_in_the_new_order(prepared_synthetic,
                                                                      tmp_path):
    out, _ = prepare("relayout", tmp_path / "ucla", PrepareOptions(
        raw=prepared_synthetic, layout="ucla20"))
    source, moved = PreparedDataset.open(prepared_synthetic), PreparedDataset.open(out)
    assert moved.layout.name == "ucla20" and moved.names == source.names
    assert moved.splits == source.splits and list(moved.labels) == list(source.labels)
    assert moved.meta["samples"]["subject"] == source.meta["samples"]["subject"]
    np.testing.assert_array_equal(moved.lengths, source.lengths)
    index, _ = joint_mapping(UCLA20, NTU25)
    np.testing.assert_array_equal(np.asarray(moved.joints[3]),
                                  np.asarray(source.joints[3])[:, :moved.joints.shape[2],
                                                               index])
    with pytest.raises(PrepareError, match="needs --layout"):
        prepare("relayout", tmp_path / "x", PrepareOptions(raw=prepared_synthetic))


def test_projection_gives_the_synthetic_sets_own_2d_keypoints(prepared_synthetic, tmp_path):
    out, _ = prepare("relayout", tmp_path / "2d", PrepareOptions(
        raw=prepared_synthetic, layout="ntu25", project=True))
    two, _ = prepare("synthetic", tmp_path / "syn2d", PrepareOptions(per_class=3, seed=1,
                                                                    dims=2))
    projected, native = PreparedDataset.open(out), PreparedDataset.open(two)
    assert projected.channels == 2 and projected.names == native.names
    np.testing.assert_allclose(projected.joints, native.joints, rtol=1e-4, atol=1e-2)
    with pytest.raises(PrepareError, match="--project needs 3-D coordinates"):
        prepare("relayout", tmp_path / "again", PrepareOptions(raw=out, layout="ntu25",
                                                               project=True))
