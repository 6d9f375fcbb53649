"""The virtual camera (ViewCLR, eqs. 1–3) against its definition."""

from __future__ import annotations

import math

import pytest
import torch

from skelssl.skeleton import NTU25
from skelssl.transforms.camera import Camera, draw_cameras, rotation_xyz, virtual_camera

N, T, V, M = 6, 5, NTU25.num_joints, 2


def sequences(seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    offset = torch.tensor([0.5, 1.0, 3.0]).view(3, 1, 1, 1)  # away from the origin
    x = torch.randn(N, 3, T, V, M, generator=g) + offset
    lengths = torch.tensor([5, 5, 4, 5, 3, 5])
    for sample, length in enumerate(lengths):
        x[sample, :, length:] = 0  # padded frames
    x[1, :, :, :, 1] = 0  # a sample with one person
    return x, lengths


def degrees(*angles: float) -> torch.Tensor:
    return torch.tensor(angles) * (math.pi / 180)


def test_rotations_by_90_and_180_degrees_are_exact_anticlockwise_turns():
    x_axis, y_axis, z_axis = torch.eye(3)
    rx, ry, rz = (rotation_xyz(*degrees(*angles)) for angles in
                  ((90, 0, 0), (0, 90, 0), (0, 0, 90)))
    torch.testing.assert_close(rx @ y_axis, z_axis)  # y → z about x
    torch.testing.assert_close(ry @ z_axis, x_axis)  # z → x about y
    torch.testing.assert_close(rz @ x_axis, y_axis)  # x → y about z
    half = rotation_xyz(*degrees(180, 0, 0))
    torch.testing.assert_close(half @ torch.tensor([1.0, 2.0, 3.0]),
                               torch.tensor([1.0, -2.0, -3.0]))


def test_the_rotation_is_rx_times_ry_times_rz():
    alpha, beta, gamma = degrees(60, 120, 300)
    zero = torch.tensor(0.0)
    expected = (rotation_xyz(alpha, zero, zero) @ rotation_xyz(zero, beta, zero)
                @ rotation_xyz(zero, zero, gamma))
    torch.testing.assert_close(rotation_xyz(alpha, beta, gamma), expected)
    assert not torch.allclose(expected, rotation_xyz(zero, zero, gamma)
                              @ rotation_xyz(zero, beta, zero) @ rotation_xyz(alpha, zero, zero))


def test_bone_lengths_are_kept_and_padding_stays_zero():
    x, lengths = sequences()
    seen = virtual_camera(x, lengths, NTU25.center, Camera(per_frame=True),
                          torch.Generator().manual_seed(1))
    parents = torch.tensor(NTU25.parents)

    def bones(y: torch.Tensor) -> torch.Tensor:
        return (y - y[:, :, :, parents]).norm(dim=1)

    present = (x != 0).any(dim=1)  # (N, T, V, M)
    torch.testing.assert_close(bones(seen) * present, bones(x) * present)
    assert (seen[x.abs().sum(dim=(1, 3), keepdim=True).expand_as(x) == 0] == 0).all()
    assert not torch.allclose(seen, x)


def test_the_first_frame_body_centre_lands_at_minus_r_times_d():
    x, lengths = sequences()
    camera = Camera(unit=(0.3, -0.2, 1.0))
    seen = virtual_camera(x, lengths, NTU25.center, camera, torch.Generator().manual_seed(2))
    rotation, displacement = draw_cameras(camera, N, T, torch.Generator().manual_seed(2))
    expected = -(rotation[:, 0] @ displacement[:, 0, :, None]).squeeze(-1)
    torch.testing.assert_close(seen[:, :, 0, NTU25.center, 0], expected)
    assert (displacement.norm(dim=-1) > 0).any()


def test_fixed_axes_stay_fixed_and_random_ones_come_from_their_sets():
    camera = Camera(alpha=30.0, gamma=None, beta=0.0, multiple=2.0, angles=(0.0, 90.0))
    rotation, displacement = draw_cameras(camera, 200, T, torch.Generator().manual_seed(0))
    assert rotation.shape == (200, 1, 3, 3)
    torch.testing.assert_close(displacement, torch.tensor([0.0, 0.0, 2.0]).expand(200, 1, 3))
    quarter = rotation_xyz(*degrees(30, 0, 90))
    still = rotation_xyz(*degrees(30, 0, 0))
    is_quarter = torch.isclose(rotation, quarter, atol=1e-6).flatten(1).all(dim=1)
    is_still = torch.isclose(rotation, still, atol=1e-6).flatten(1).all(dim=1)
    assert (is_quarter | is_still).all() and is_quarter.any() and is_still.any()


def test_a_camera_per_frame_moves_between_frames_a_sequence_camera_does_not():
    x, lengths = sequences()
    full = torch.full((N,), T)
    x = x[:, :, :1].expand(-1, -1, T, -1, -1).clone()  # a statue: every frame the same
    for per_frame, moves in ((False, False), (True, True)):
        seen = virtual_camera(x, full, NTU25.center, Camera(per_frame=per_frame),
                              torch.Generator().manual_seed(3))
        assert (not torch.allclose(seen[:, :, 1:], seen[:, :, :1].expand_as(seen[:, :, 1:]),
                                   atol=1e-5)) == moves


@pytest.mark.parametrize("seed", [0, 1])
def test_the_same_generator_draws_the_same_cameras(seed):
    x, lengths = sequences()
    first, second = (virtual_camera(x, lengths, NTU25.center, Camera(),
                                    torch.Generator().manual_seed(seed)) for _ in range(2))
    torch.testing.assert_close(first, second)
