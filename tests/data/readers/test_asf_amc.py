"""ASF/AMC reader: forward kinematics against positions computed by hand."""

import numpy as np
import pytest

from skelssl.data.dataset import PreparedDataset
from skelssl.data.prepare import PrepareOptions, prepare
from skelssl.data.readers.asf_amc import euler, forward_kinematics, read_amc, read_asf
from skelssl.errors import DamagedDataError, PrepareError, SampleError
from skelssl.skeleton import CMU31

# Lengths in metres: ":units length 0.0254" makes one file unit one metre (inch / 0.0254).
ASF = """# a 3-bone chain
:version 1.10
:name chain
:units
  mass 1.0
  length 0.0254
  angle deg
:root
  order TX TY TZ RX RY RZ
  axis XYZ
  position 0 0 0
  orientation 0 0 0
:bonedata
  begin
    id 1
    name a
    direction 1 0 0
    length 2
    axis 0 0 0 XYZ
    dof rz
    limits (-180.0 180.0)
  end
  begin
    id 2
    name b
    direction 0 2 0
    length 1
    axis 0 0 90 XYZ
    dof rx
  end
  begin
    id 3
    name c
    direction 0 0 1
    length 3
    axis 0 0 0 XYZ
  end
:hierarchy
  begin
    root a
    a b
    b c
  end
"""
AMC = """#!OML:ASF chain.asf
:FULLY-SPECIFIED
:DEGREES
1
root 1 2 3 0 0 0
a 90
b 0
2
root 0 0 0 0 90 0
a 0
b 90
"""
# Frame 1: root at (1, 2, 3); a turns 90° about z, so its end is root + (0, 2, 0); b's axis C
# is Rz(90) and its rotation 0, so it follows a: (0, 1, 0) turned by Rz(90) = (-1, 0, 0); c
# adds (0, 0, 3). Frame 2: the root turns 90° about y (x → -z, z → x); b turns 90° about C·x =
# y, so from b on the chain is turned 180° about y: b = a + (0, 1, 0), c = b + (0, 0, -3).
EXPECTED = np.array([[[1, 2, 3], [1, 4, 3], [0, 4, 3], [0, 4, 6]],
                     [[0, 0, 0], [0, 0, -2], [0, 1, -2], [0, 1, -5]]], dtype=float)


def write_chain(folder, stem="chain_01", amc=AMC, asf=ASF):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "chain.asf").write_text(asf)
    (folder / f"{stem}.amc").write_text(amc)
    return folder / f"{stem}.amc"


def test_euler_applies_the_first_listed_axis_first():
    a, b = 0.3, -1.1
    rx = np.array([[1, 0, 0], [0, np.cos(a), -np.sin(a)], [0, np.sin(a), np.cos(a)]])
    rz = np.array([[np.cos(b), -np.sin(b), 0], [np.sin(b), np.cos(b), 0], [0, 0, 1]])
    np.testing.assert_allclose(euler(np.array([a, b]), "xz"), rz @ rx, atol=1e-12)
    np.testing.assert_allclose(euler(np.array([b, a]), "zx"), rx @ rz, atol=1e-12)


def test_forward_kinematics_equals_hand_computed_positions(tmp_path):
    amc = write_chain(tmp_path)
    skeleton = read_asf(tmp_path / "chain.asf")
    assert skeleton.joint_names == ["root", "a", "b", "c"]
    assert skeleton.bones["c"].parent == "b" and skeleton.metres == pytest.approx(1.0)
    positions = forward_kinematics(skeleton, read_amc(amc, skeleton))
    np.testing.assert_allclose(positions, EXPECTED, atol=1e-9)


def test_inches_and_radians_follow_the_units_section(tmp_path):
    asf = ASF.replace("length 0.0254", "length 0.45").replace("angle deg", "angle rad")
    amc = AMC.replace("a 90", f"a {np.pi / 2}").replace("b 90", f"b {np.pi / 2}").replace(
        "0 0 0 0 90 0", f"0 0 0 0 {np.pi / 2} 0").replace("axis 0 0 90", "axis 0 0 1.5707963")
    write_chain(tmp_path, amc=amc, asf=asf.replace("axis 0 0 90", "axis 0 0 1.5707963267949"))
    skeleton = read_asf(tmp_path / "chain.asf")
    positions = forward_kinematics(skeleton, read_amc(tmp_path / "chain_01.amc", skeleton))
    np.testing.assert_allclose(positions, EXPECTED * 0.0254 / 0.45, atol=1e-7)


@pytest.mark.parametrize(("amc", "problem"), [
    (AMC.replace("a 90\n", "a 90 5\n"), "line 6: a has 2 values, its dof lists 1"),
    (AMC.replace("b 90\n", ""), "the frame at the end has no values for 'b'"),
    (AMC.replace("a 0\n", "a x\n"), "line 10: a: expected 1 numbers, found x"),
    (AMC.replace("a 90\n", "d 90\n"), "line 6: bone 'd' is not in the skeleton"),
    (AMC.replace("b 0\n", "c 0\n"), "bone 'c' is not in the skeleton or has no degree"),
])
def test_damaged_motions_name_the_line(tmp_path, amc, problem):
    write_chain(tmp_path, amc=amc)
    skeleton = read_asf(tmp_path / "chain.asf")
    with pytest.raises(SampleError, match=problem):
        read_amc(tmp_path / "chain_01.amc", skeleton)


def test_damaged_skeletons_name_what_is_wrong(tmp_path):
    write_chain(tmp_path, asf=ASF.replace("    a b\n", "    a x\n"))
    with pytest.raises(SampleError, match="hierarchy names unknown bone 'x'"):
        read_asf(tmp_path / "chain.asf")
    write_chain(tmp_path, asf=ASF.replace("direction 1 0 0", "direction 1 0"))
    with pytest.raises(SampleError, match="direction of a: expected 3 numbers"):
        read_asf(tmp_path / "chain.asf")
    write_chain(tmp_path, asf=ASF.replace("dof rz", "dof tz"))
    with pytest.raises(SampleError, match="dof 'tz' of a"):
        read_asf(tmp_path / "chain.asf")


def test_prepare_reads_the_class_list_with_folds_and_a_layout_of_the_tree(tmp_path):
    for i in range(4):
        write_chain(tmp_path / "raw" / "chain", f"chain_{i + 1:02d}",
                    amc=AMC.replace("a 90", f"a {90 - 10 * i}"))
    classes = tmp_path / "classes.csv"
    classes.write_text("motion,class,fold\nchain_01,wave,1\nchain_02,wave,2\n"
                       "chain/chain_03.amc,kick,1\nchain_04,kick,2\n")
    out, _ = prepare("asf-amc", tmp_path / "out", PrepareOptions(
        raw=tmp_path / "raw", labels=classes, workers=1))
    data = PreparedDataset.open(out, verify=True)
    assert data.class_names == ["kick", "wave"]
    assert list(data.labels) == [1, 1, 0, 0]
    assert data.layout.joint_names == ("root", "a", "b", "c")
    assert [data.layout.joint_names[p] for p in data.layout.parents] == ["root", "root", "a", "b"]
    assert data.splits["fold1"] == {"train": [1, 3], "test": [0, 2]}
    np.testing.assert_allclose(data.joints[0, :, :2, :, 0].transpose(1, 2, 0), EXPECTED,
                               atol=1e-6)
    classes.write_text("chain_09,wave\n")
    with pytest.raises(PrepareError, match="motion 'chain_09' is not below"):
        prepare("asf-amc", tmp_path / "out2", PrepareOptions(raw=tmp_path / "raw",
                                                              labels=classes, workers=1))
    classes.write_text("chain_01,wave\nchain_02,kick\n")
    (tmp_path / "raw" / "chain" / "chain_02.amc").write_text(AMC.replace("b 90\n", ""))
    with pytest.raises(DamagedDataError, match="chain_02.amc"):
        prepare("asf-amc", tmp_path / "out3", PrepareOptions(raw=tmp_path / "raw",
                                                              labels=classes, workers=1))


def test_cmu_bones_get_the_built_in_layout_in_its_order(tmp_path):
    bones = CMU31.joint_names[1:]
    parent = {n: CMU31.joint_names[p]
              for n, p in zip(CMU31.joint_names, CMU31.parents, strict=True)}
    blocks = "".join(f"  begin\n    name {b}\n    direction 0 1 0\n    length 1\n"
                     f"    axis 0 0 0 XYZ\n  end\n" for b in reversed(bones))
    tree = "".join(f"    {p} {b}\n" for b, p in parent.items() if b != "root")
    asf = f":units\n  length 0.0254\n:root\n  order TX TY TZ RX RY RZ\n:bonedata\n{blocks}" \
          f":hierarchy\n  begin\n{tree}  end\n"
    write_chain(tmp_path / "raw", "07_01", amc="1\nroot 0 0 0 0 0 0\n", asf=asf)
    (tmp_path / "raw" / "chain.asf").rename(tmp_path / "raw" / "07.asf")
    classes = tmp_path / "c.csv"
    classes.write_text("07_01,stand\n")
    out, _ = prepare("asf-amc", tmp_path / "out", PrepareOptions(raw=tmp_path / "raw",
                                                                 labels=classes, workers=1))
    data = PreparedDataset.open(out)
    assert data.layout.name == "cmu31" and data.meta["samples"]["subject"] == ["07"]
    head = CMU31.joint_names.index("head")  # root → lowerback … head: 6 bones of 1 m up
    np.testing.assert_allclose(data.joints[0, :, 0, head, 0], [0, 6, 0], atol=1e-6)
