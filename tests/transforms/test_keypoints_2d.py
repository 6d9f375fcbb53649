"""The 2-D forms of the 3-D transforms (C = 2 keypoints): definitions, not just shapes."""

import math

import pytest
import torch

from skelssl.skeleton import NTU25
from skelssl.transforms.camera import Camera, virtual_camera
from skelssl.transforms.extreme import main_axis_rotation
from skelssl.transforms.normalize import align_view
from skelssl.transforms.spatial import random_shear_matrices, rotate, shear


def keypoints(n=6, t=5, generator_seed=0):
    g = torch.Generator().manual_seed(generator_seed)
    return torch.randn(n, 2, t, NTU25.num_joints, 1, generator=g)


def planar_angle(before, after):
    """The in-plane rotation angle taking each sample's first joint vector to its image."""
    a, b = before[:, :, 0, 1, 0], after[:, :, 0, 1, 0]
    return torch.atan2(a[:, 0] * b[:, 1] - a[:, 1] * b[:, 0], (a * b).sum(dim=1))


def test_shear_of_keypoints_has_two_off_diagonals_within_beta():
    r = random_shear_matrices(500, 0.5, torch.Generator().manual_seed(0), channels=2)
    assert r.shape == (500, 2, 2)
    assert torch.equal(r[:, [0, 1], [0, 1]], torch.ones(500, 2))
    off = r[:, [0, 1], [1, 0]]
    assert off.abs().max() <= 0.5 and off.std() > 0.2
    x = keypoints()
    g = torch.Generator().manual_seed(3)
    expected = torch.einsum("nij,njtvm->nitvm",
                            random_shear_matrices(6, 0.5, torch.Generator().manual_seed(3),
                                                  channels=2), x)
    torch.testing.assert_close(shear(x, 0.5, g), expected)


def test_the_three_dimensional_shear_draws_as_before():
    r = random_shear_matrices(4, 0.5, torch.Generator().manual_seed(0))
    off = (torch.rand(4, 6, generator=torch.Generator().manual_seed(0)) * 2 - 1) * 0.5
    assert torch.equal(r[:, [0, 0, 1, 1, 2, 2], [1, 2, 0, 2, 0, 1]], off)


def test_rotation_of_keypoints_turns_in_the_image_plane_within_the_limit():
    x = keypoints(n=200)
    out = rotate(x, 30.0, torch.Generator().manual_seed(0))
    torch.testing.assert_close(out.norm(dim=1), x.norm(dim=1))  # a rotation keeps lengths
    angle = planar_angle(x, out).abs() * 180 / math.pi
    assert angle.max() <= 30.0 + 1e-3 and angle.max() > 20.0
    turn = planar_angle(x, out)  # one angle per sample, shared by every joint and frame
    torch.testing.assert_close(planar_angle(x[:, :, :, 5:], out[:, :, :, 5:]), turn)


def test_extreme_rotation_of_keypoints_uses_the_main_limit_about_z():
    x = keypoints(n=300)
    out = main_axis_rotation(x, 30.0, 1.0, torch.Generator().manual_seed(0))
    angle = planar_angle(x, out) * 180 / math.pi
    assert angle.min() >= -1e-3 and angle.max() <= 30.0 + 1e-3
    assert (angle > 5).float().mean() > 0.7  # not only the 1° "other" axes


def test_virtual_camera_of_keypoints_turns_about_the_viewing_axis_and_shifts():
    x = keypoints(n=4)
    camera = Camera(alpha=60.0, beta=120.0, gamma=90.0, multiple=2.0, unit=(1.0, 0.5, 7.0))
    out = virtual_camera(x, torch.full((4,), 5), NTU25.center, camera)
    centred = x - x[:, :, :1, NTU25.center:NTU25.center + 1, :1]
    moved = centred - torch.tensor([2.0, 1.0])[None, :, None, None, None]
    expected = torch.stack([-moved[:, 1], moved[:, 0]], dim=1)  # R_z(90°) on (x, y)
    torch.testing.assert_close(out, expected)


@pytest.mark.parametrize("axes", ["shoulders", "hips"])
def test_view_alignment_of_keypoints_lines_up_the_body_in_the_image(axes):
    x = keypoints(n=5)
    out = align_view(x, NTU25, axes)
    first = out[:, :, 0, :, 0]
    if axes == "shoulders":
        left, right = NTU25.shoulders
        vector = first[:, :, right] - first[:, :, left]
        assert (vector[:, 0] > 0).all()
        torch.testing.assert_close(vector[:, 1], torch.zeros(5), atol=1e-5, rtol=0)
    else:
        base, top = NTU25.spine
        vector = first[:, :, top] - first[:, :, base]
        assert (vector[:, 1] > 0).all()
        torch.testing.assert_close(vector[:, 0], torch.zeros(5), atol=1e-5, rtol=0)
    torch.testing.assert_close(out.norm(dim=1), x.norm(dim=1))
