import numpy as np
import pytest

from skelssl.errors import LayoutError
from skelssl.skeleton import NTU25, UCLA20, Layout, layout_from_dict, load_layout


def chain() -> Layout:
    """0 - 1 - 2 with centre 1: degrees (self-loop included) 2, 3, 2."""
    return Layout("chain", ("a", "b", "c"), parents=(1, 1, 1), center=1)


def test_spatial_partitions_of_a_chain_match_hand_computation():
    a = chain().adjacency()
    expected = np.zeros((3, 3, 3))
    expected[0] = np.diag([1 / 2, 1 / 3, 1 / 2])  # the joint itself, column-normalised
    expected[1][0, 1] = expected[1][2, 1] = 1 / 3  # into the centre from farther joints
    expected[2][1, 0] = expected[2][1, 2] = 1 / 2  # into the ends from the (closer) centre
    np.testing.assert_allclose(a, expected, rtol=1e-6)


@pytest.mark.parametrize("layout", [NTU25, UCLA20])
def test_builtin_adjacency_is_a_column_normalised_partition(layout):
    a = layout.adjacency()
    v = layout.num_joints
    assert a.shape == (3, v, v)
    np.testing.assert_allclose(a.sum(axis=(0, 1)), np.ones(v), rtol=1e-6)  # columns sum to 1
    assert ((a > 0).sum(axis=0) <= 1).all()  # each (u, w) in exactly one partition
    degree = 1 + np.bincount(np.array(layout.edges).ravel(), minlength=v)
    np.testing.assert_allclose(np.diag(a[0]), 1 / degree, rtol=1e-6)
    for child, parent in layout.edges:  # the parent is closer to the centre than the child
        assert a[2][parent, child] > 0 and a[1][child, parent] > 0


def test_ntu25_structure():
    assert NTU25.num_joints == 25 and NTU25.joint_names[NTU25.center] == "spine_shoulder"
    assert NTU25.parents[NTU25.index("left_hand_tip")] == NTU25.index("left_thumb")
    assert len(NTU25.edges) == 24
    flip = NTU25.flip_index
    assert flip[NTU25.index("left_elbow")] == NTU25.index("right_elbow")
    assert sorted(flip) == list(range(25)) and flip[NTU25.center] == NTU25.center
    assert sorted(j for p in NTU25.parts.values() for j in p) == list(range(25))


def test_ucla20_structure():
    assert UCLA20.num_joints == 20 and len(UCLA20.edges) == 19
    assert UCLA20.joint_names[UCLA20.center] == "shoulder_center"
    assert sorted(j for p in UCLA20.parts.values() for j in p) == list(range(20))


def test_released_stgcn_partition_ties_joints_beyond_max_hop():
    a = NTU25.adjacency(center_distance="max_hop")
    np.testing.assert_allclose(a.sum(axis=(0, 1)), np.ones(25), rtol=1e-6)
    elbow, wrist = NTU25.index("left_elbow"), NTU25.index("left_wrist")
    assert a[1][elbow, wrist] > 0 and a[1][wrist, elbow] > 0  # both "infinitely" far: tie
    assert NTU25.adjacency()[2][elbow, wrist] > 0  # by tree distance the elbow is closer
    centre, shoulder = NTU25.center, NTU25.index("left_shoulder")
    assert a[2][centre, shoulder] > 0  # within max_hop both definitions agree


def test_hop_distance_beyond_max_hop_is_infinite():
    d = NTU25.hop_distance(max_hop=2)
    head, neck, spine_shoulder = (NTU25.index(n) for n in ("head", "neck", "spine_shoulder"))
    assert d[head, neck] == 1 and d[head, spine_shoulder] == 2
    assert np.isinf(d[head, NTU25.index("left_foot")])
    assert NTU25.adjacency(max_hop=2).shape == (5, 25, 25)


def test_yaml_layout_round_trip(tmp_path):
    path = tmp_path / "ntu.yaml"
    import yaml

    path.write_text(yaml.safe_dump(NTU25.to_dict()))
    assert load_layout(path) == NTU25
    assert load_layout("ucla20") is UCLA20


def test_yaml_layout_by_name(tmp_path):
    path = tmp_path / "arm.yaml"
    path.write_text("name: arm\ncenter: shoulder\njoints:\n  - [shoulder, null]\n"
                    "  - [elbow, shoulder]\n  - [wrist, elbow]\n")
    arm = load_layout(str(path))
    assert arm.parents == (0, 0, 1) and arm.edges == [(1, 0), (2, 1)]


@pytest.mark.parametrize("spec, message", [
    ({"name": "x", "center": "a", "joints": [["a", None], ["b", "c"]]}, "unknown joint 'c'"),
    ({"name": "x", "center": "a", "joints": [["a", None], ["b", "c"], ["c", "b"]]}, "cycle"),
    ({"name": "x", "center": "a", "joints": [["a", None]], "jionts": []}, "did you mean 'joints'"),
    ({"name": "x", "joints": [["a", None]]}, "missing key 'center'"),
    ({"name": "x", "center": "a", "joints": [["a", None]], "hips": ["a"]}, "'hips' must be a"),
    ({"name": "x", "center": "a", "joints": [["a", None]], "scores": "yes"},
     "'scores' must be true or false, got 'yes'"),
])
def test_bad_layouts_are_reported(spec, message):
    with pytest.raises(LayoutError, match=message):
        layout_from_dict(spec)


def test_unknown_layout_name_suggests_the_closest():
    with pytest.raises(LayoutError, match="did you mean 'ntu25'"):
        load_layout("ntu52")
