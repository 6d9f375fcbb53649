"""Preprocessing ops against their definitions on exact small cases."""

import json
import math

import numpy as np
import pytest
import torch

from conftest import NW_UCLA, needs_ucla
from skelssl.skeleton import NTU25, UCLA20
from skelssl.transforms.normalize import (
    align_view,
    center,
    minmax_normalize,
    pad_persons,
    view_rotation,
)
from skelssl.transforms.temporal import resize_valid


def test_resize_interpolates_only_the_valid_frames():
    x = torch.zeros(2, 1, 5, 1, 1)
    x[0, 0, :3, 0, 0] = torch.tensor([0.0, 10.0, 20.0])  # 3 valid frames, then padding
    x[1, 0, :, 0, 0] = torch.tensor([0.0, 1.0, 2.0, 3.0, 4.0])
    out, lengths = resize_valid(x, torch.tensor([3, 5]), 5)
    torch.testing.assert_close(out[0, 0, :, 0, 0], torch.tensor([0.0, 5.0, 10.0, 15.0, 20.0]))
    torch.testing.assert_close(out[1, 0, :, 0, 0], x[1, 0, :, 0, 0])  # identity
    assert lengths.tolist() == [5, 5]
    down, _ = resize_valid(x, torch.tensor([3, 5]), 3)
    torch.testing.assert_close(down[1, 0, :, 0, 0], torch.tensor([0.0, 2.0, 4.0]))


def test_resize_of_one_frame_repeats_it():
    x = torch.zeros(1, 3, 4, 2, 1)
    x[0, :, 0] = torch.arange(6.0).view(3, 2, 1)
    out, _ = resize_valid(x, torch.tensor([1]), 7)
    assert torch.equal(out, x[:, :, :1].expand(-1, -1, 7, -1, -1))


def test_center_per_frame_and_first_frame_keeps_padding_and_absent_persons_zero():
    x = torch.zeros(1, 3, 3, 2, 2)  # 2 valid frames of 3; person 2 only in frame 1
    x[0, :, 0, :, 0] = torch.tensor([[1.0, 2.0], [0.0, 1.0], [0.0, 0.0]])
    x[0, :, 1, :, 0] = torch.tensor([[3.0, 5.0], [1.0, 1.0], [0.0, 0.0]])
    x[0, :, 0, :, 1] = torch.tensor([[4.0, 4.0], [4.0, 4.0], [4.0, 4.0]])
    lengths = torch.tensor([2])
    framewise = center(x, lengths, joint=0, mode="frame")
    torch.testing.assert_close(framewise[0, :, 0, :, 0], torch.tensor([[0.0, 1.0], [0.0, 1.0],
                                                                      [0.0, 0.0]]))
    torch.testing.assert_close(framewise[0, :, 1, :, 0], torch.tensor([[0.0, 2.0], [0.0, 0.0],
                                                                      [0.0, 0.0]]))
    torch.testing.assert_close(framewise[0, :, 0, 0, 1], torch.tensor([3.0, 4.0, 4.0]))
    assert not framewise[0, :, 1, :, 1].any() and not framewise[0, :, 2].any()
    first = center(x, lengths, joint=0, mode="first")
    torch.testing.assert_close(first[0, :, 1, :, 0], torch.tensor([[2.0, 4.0], [1.0, 1.0],
                                                                  [0.0, 0.0]]))
    with pytest.raises(ValueError, match="centre mode"):
        center(x, lengths, 0, mode="mean")


def ntu_pose(shoulder_vec, spine_vec):
    """A 1-sample NTU batch whose first frame has the given shoulder and spine vectors."""
    x = torch.zeros(1, 3, 2, 25, 1)
    left, right = NTU25.shoulders
    base, top = NTU25.spine
    x[0, :, :, right, 0] = torch.tensor(shoulder_vec)[:, None]
    x[0, :, :, top, 0] = torch.tensor(spine_vec)[:, None] + 0.5
    x[0, :, :, base, 0] = 0.5
    x[0, :, :, left, 0] = 0.0
    return x


def test_view_alignment_sends_shoulders_to_x_and_spine_to_y():
    c, s = math.cos(0.7), math.sin(0.7)
    x = ntu_pose([2 * c, 0.0, -2 * s], [0.3, 1.0, 0.2])
    out = align_view(x, NTU25)
    left, right = NTU25.shoulders
    base, top = NTU25.spine
    shoulder = out[0, :, 0, right, 0] - out[0, :, 0, left, 0]
    torch.testing.assert_close(shoulder, torch.tensor([2.0, 0.0, 0.0]), atol=1e-6, rtol=0)
    spine = out[0, :, 0, top, 0] - out[0, :, 0, base, 0]
    assert abs(spine[2]) < 1e-6 and spine[1] > 0
    r = view_rotation(x, NTU25)[0]
    torch.testing.assert_close(r @ r.T, torch.eye(3), atol=1e-6, rtol=0)
    assert torch.det(r) > 0


def test_hips_alignment_sends_spine_to_y_and_hips_into_the_x_y_plane():
    x = torch.zeros(1, 3, 2, 20, 1)
    base, top = UCLA20.spine
    left, right = UCLA20.hips
    c, s = math.cos(0.4), math.sin(0.4)
    x[0, :, :, top, 0] = torch.tensor([0.0, 2 * c, 2 * s])[:, None]  # spine tilted towards z
    x[0, :, :, right, 0] = torch.tensor([1.0, 0.3, -0.2])[:, None]
    x[0, :, :, left, 0] = torch.tensor([-1.0, 0.3, 0.2])[:, None]
    out = align_view(x, UCLA20, "hips")
    spine = out[0, :, 0, top, 0] - out[0, :, 0, base, 0]
    torch.testing.assert_close(spine, torch.tensor([0.0, 2.0, 0.0]), atol=1e-6, rtol=0)
    hips = out[0, :, 0, right, 0] - out[0, :, 0, left, 0]
    assert abs(hips[2]) < 1e-6 and hips[0] > 0
    r = view_rotation(x, UCLA20, "hips")[0]
    torch.testing.assert_close(r @ r.T, torch.eye(3), atol=1e-6, rtol=0)
    assert torch.det(r) > 0
    with pytest.raises(ValueError, match="view axes 'knees'"):
        view_rotation(x, UCLA20, "knees")


def test_view_alignment_of_a_degenerate_pose_is_the_identity():
    x = torch.zeros(1, 3, 2, 25, 1)
    assert torch.equal(view_rotation(x, NTU25)[0], torch.eye(3))


def test_minmax_maps_each_sample_person_and_axis_to_minus_one_one():
    x = torch.zeros(1, 2, 3, 2, 2)
    x[0, 0, :2, :, 0] = torch.tensor([[1.0, 3.0], [5.0, 2.0]])  # x axis, person 1
    x[0, 1, :2, :, 0] = 7.0  # constant axis
    x[0, 0, 0, :, 1] = torch.tensor([-2.0, 2.0])  # person 2, one frame
    x[0, 0, 2, :, 0] = 100.0  # beyond the valid length: ignored
    out = minmax_normalize(x, torch.tensor([2]))
    torch.testing.assert_close(out[0, 0, :2, :, 0], torch.tensor([[-1.0, 0.0], [1.0, -0.5]]))
    assert not out[0, 1].any()  # constant axis -> 0
    torch.testing.assert_close(out[0, 0, 0, :, 1], torch.tensor([-1.0, 1.0]))
    assert not out[0, :, 2].any()


def test_pad_persons():
    x = torch.ones(1, 3, 2, 25, 1)
    padded = pad_persons(x, 2)
    assert padded.shape[-1] == 2 and not padded[..., 1].any()
    assert pad_persons(padded, 1).shape[-1] == 1


@needs_ucla
def test_the_one_frame_nw_ucla_sequence_survives_every_op():
    from skelssl.data.readers.nw_ucla import read_file

    files = sorted(NW_UCLA.glob("*.json"))
    path = next(f for f in files if len(json.loads(f.read_text())["skeletons"]) == 1)
    seq = read_file(path)
    x = torch.zeros(1, 3, 50, 20, 1)
    x[0, :, :1] = torch.from_numpy(seq.joints.transpose(3, 1, 2, 0))
    lengths = torch.tensor([1])
    steps = [
        center(x, lengths, UCLA20.center, "frame"),
        center(x, lengths, UCLA20.center, "first"),
        align_view(x, UCLA20),
        minmax_normalize(x, lengths),
        resize_valid(x, lengths, 50)[0],
        pad_persons(x, 2),
    ]
    for out in steps:
        assert torch.isfinite(out).all()
    resized = resize_valid(minmax_normalize(x, lengths), lengths, 50)[0]
    assert torch.equal(resized, resized[:, :, :1].expand_as(resized)) and resized.abs().max() <= 1
    np.testing.assert_allclose(steps[0][0, :, 0, UCLA20.center, 0].numpy(), 0.0)
