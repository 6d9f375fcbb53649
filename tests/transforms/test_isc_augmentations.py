"""ISC's augmentations against their definitions."""

from __future__ import annotations

import torch

from skelssl.skeleton import NTU25, UCLA20
from skelssl.transforms.isc import (
    centre_crop,
    crop_resize,
    jitter_count,
    joint_jitter,
    pose_or_jitter,
)
from skelssl.transforms.temporal import resize_valid

N, T, V, M = 32, 40, NTU25.num_joints, 2


def ramp(lengths: torch.Tensor) -> torch.Tensor:
    """x[n, c, t, v, m] = t on valid frames (0 beyond): a frame's value names its time."""
    t = torch.arange(T).float().view(1, 1, T, 1, 1).expand(len(lengths), 3, T, V, M)
    return t * (torch.arange(T)[None] < lengths[:, None]).view(-1, 1, T, 1, 1)


def test_crop_resize_takes_one_window_of_the_valid_frames_and_resamples_it():
    lengths = torch.tensor([T, 25, 10, 1] * (N // 4))
    x = ramp(lengths)
    out, new_lengths = crop_resize(x, lengths, 16, 0.1, torch.Generator().manual_seed(0))
    assert out.shape == (N, 3, 16, V, M) and (new_lengths == 16).all()
    time = out[:, 0, :, 0, 0]  # the source time each output frame shows
    assert (time.diff(dim=1) >= -1e-5).all()  # in order, evenly
    steps = time.diff(dim=1)
    torch.testing.assert_close(steps, steps[:, :1].expand_as(steps))
    span = time[:, -1] - time[:, 0] + 1  # the window's length
    assert (time[:, 0] >= 0).all() and (time[:, -1] <= lengths.float() - 1).all()
    assert (span >= 0.1 * lengths.float() - 1).all()
    assert span.unique().numel() > 4  # lengths vary


def test_crop_resize_of_the_full_window_is_resize_valid():
    lengths = torch.tensor([T, 25] * (N // 2))
    x = torch.randn(N, 3, T, V, M) * (torch.arange(T)[None] < lengths[:, None]).view(N, 1, T, 1, 1)
    out, _ = crop_resize(x, lengths, 16, min_ratio=1.0, generator=torch.Generator().manual_seed(0))
    torch.testing.assert_close(out, resize_valid(x, lengths, 16)[0])


def test_crop_resize_with_a_frame_floor_keeps_at_least_that_many_frames_or_all_of_them():
    lengths = torch.tensor([T, 25, 12, 5] * (N // 4))
    x = ramp(lengths)
    out, _ = crop_resize(x, lengths, 16, 0.1, torch.Generator().manual_seed(0), min_frames=12)
    time = out[:, 0, :, 0, 0]
    span = time[:, -1] - time[:, 0] + 1
    assert (span >= torch.minimum(lengths, torch.tensor(12)).float() - 1e-4).all()
    assert (span[lengths > 12] < 12 + 1e-4).any()  # some windows sit on the floor
    short = lengths <= 12  # the released code's rule: all of a sequence under the floor
    torch.testing.assert_close(out[short], resize_valid(x, lengths, 16)[0][short])
    unfloored, _ = crop_resize(x, lengths, 16, 0.1, torch.Generator().manual_seed(0))
    assert ((unfloored[:, 0, -1, 0, 0] - unfloored[:, 0, 0, 0, 0] + 1)[lengths == T]
            < 12).any()  # without it the same draws give shorter windows


def test_joint_jitter_changes_exactly_count_joints_each_by_one_matrix_or_zero():
    x = torch.randn(N, 3, T, V, M, generator=torch.Generator().manual_seed(1))
    out = joint_jitter(x, 15, torch.Generator().manual_seed(2))
    changed = (out != x).flatten(start_dim=1, end_dim=2).any(dim=1).any(dim=-1)  # (N, V)
    assert (changed.sum(dim=1) == 15).all()
    zeroed = (out == 0).all(dim=(1, 2, 4)) & changed
    sample = int(torch.nonzero(changed.sum(dim=1) != zeroed.sum(dim=1))[0])  # a multiplied one
    joints = torch.nonzero(changed[sample]).flatten()
    a = x[sample][:, :, joints].reshape(3, -1)
    b = out[sample][:, :, joints].reshape(3, -1)
    matrix = torch.linalg.lstsq(a.T, b.T).solution.T  # one 3×3 matrix explains every joint
    torch.testing.assert_close(matrix @ a, b, atol=1e-4, rtol=1e-4)
    assert matrix.abs().max() <= 1
    assert zeroed.any(dim=1).sum() > 0  # some samples had their joints zeroed


def test_the_jitter_count_is_iscs_share_of_the_layout():
    assert jitter_count(NTU25.num_joints) == 15 and jitter_count(UCLA20.num_joints) == 12


def test_pose_or_jitter_picks_one_of_the_two_per_sample():
    x = torch.randn(N, 3, T, V, M, generator=torch.Generator().manual_seed(3))
    out = pose_or_jitter(x, 1.0, 15, torch.Generator().manual_seed(4))
    changed_joints = (out != x).any(dim=(1, 2, 4)).sum(dim=1)  # (N,)
    jittered = changed_joints == 15
    assert jittered.any() and (~jittered).any()
    assert (changed_joints[~jittered] == V).all()  # a shear moves every joint


def test_the_centre_crop_keeps_the_middle_of_the_valid_frames():
    lengths = torch.tensor([T, 20] * (N // 2))
    out, new_lengths = centre_crop(ramp(lengths), lengths, 10, 0.5)
    time = out[:, 0, :, 0, 0]
    assert (new_lengths == 10).all()
    torch.testing.assert_close(time[0, [0, -1]], torch.tensor([10.0, 29.0]))  # 20 of 40
    torch.testing.assert_close(time[1, [0, -1]], torch.tensor([5.0, 14.0]))  # 10 of 20
