"""Frame cap, reversal, rotation and noise against their definitions."""

import torch

from skelssl.transforms.spatial import gaussian_noise, random_rotation_matrices, rotate
from skelssl.transforms.temporal import cap_frames, reverse_valid


def frame_numbers(lengths, frames):
    """x[n, 0, t] = t + 1 on valid frames, 0 on padding."""
    t = torch.arange(frames, dtype=torch.float32) + 1
    valid = t[None] <= torch.tensor(lengths)[:, None]
    return (t * valid).view(len(lengths), 1, frames, 1, 1)


def test_cap_frames_keeps_evenly_spaced_frames_of_long_samples_only():
    x = frame_numbers([10, 3], 10)
    out, lengths = cap_frames(x, torch.tensor([10, 3]), 4)
    assert lengths.tolist() == [4, 3] and out.shape[2] == 4
    assert out[0].flatten().tolist() == [1, 4, 7, 10]  # round(i * 9 / 3), ends kept
    assert out[1].flatten().tolist() == [1, 2, 3, 0]  # unchanged, padding stays zero
    same, kept = cap_frames(x, torch.tensor([10, 3]), 50)
    assert torch.equal(same, x) and kept.tolist() == [10, 3]


def test_cap_frames_stride_takes_every_floor_l_over_max_th_frame_from_the_start():
    x = frame_numbers([10, 7, 3], 10)
    out, lengths = cap_frames(x, torch.tensor([10, 7, 3]), 4, mode="stride")
    assert lengths.tolist() == [4, 4, 3]
    assert out[0].flatten().tolist() == [1, 3, 5, 7]  # ⌊10/4⌋ = 2
    assert out[1].flatten().tolist() == [1, 2, 3, 4]  # ⌊7/4⌋ = 1: the first 4 frames
    assert out[2].flatten().tolist() == [1, 2, 3, 0]


def test_reverse_valid_reverses_the_valid_part_and_leaves_padding():
    x = frame_numbers([5, 2], 6)
    out = reverse_valid(x, torch.tensor([5, 2]))
    assert out[0].flatten().tolist() == [5, 4, 3, 2, 1, 0]
    assert out[1].flatten().tolist() == [2, 1, 0, 0, 0, 0]


def test_rotations_are_proper_and_bounded():
    r = random_rotation_matrices(64, 30.0, torch.Generator().manual_seed(0))
    torch.testing.assert_close(r @ r.transpose(1, 2), torch.eye(3).expand(64, 3, 3))
    torch.testing.assert_close(torch.linalg.det(r), torch.ones(64))
    angles = (torch.rand(64, 3, generator=torch.Generator().manual_seed(0)) * 2 - 1) * torch.pi / 6
    ax, ay, az = angles.unbind(1)  # R = R_z R_y R_x: R[2, 0] = −sin y, R[0, 0] = cos z cos y
    torch.testing.assert_close(r[:, 2, 0], -ay.sin())
    torch.testing.assert_close(r[:, 0, 0], az.cos() * ay.cos())
    torch.testing.assert_close(r[:, 2, 1], ay.cos() * ax.sin())
    x = torch.randn(3, 3, 4, 5, 1)
    y = rotate(x, 30.0, torch.Generator().manual_seed(1))
    torch.testing.assert_close(y.norm(dim=1), x.norm(dim=1))  # lengths preserved per joint
    assert torch.equal(rotate(x, 0.0), x)


def test_gaussian_noise_has_its_scale_and_leaves_padding_zero():
    x = torch.ones(2, 3, 100, 25, 2)
    x[:, :, 50:] = 0
    y = gaussian_noise(x, 0.1, torch.Generator().manual_seed(0))
    assert not y[:, :, 50:].any()
    assert abs((y[:, :, :50] - 1).std().item() - 0.1) < 0.005
