"""AimCLR's energy-based drop on constructed feature maps."""

from __future__ import annotations

import torch

from skelssl.models.energy_drop import energy_attention, energy_drop


def test_attention_is_the_sigmoid_of_the_energy():
    maps = torch.tensor([[[[0.0, 0.0, 0.0, 4.0]]]])  # one channel, 1 frame, 4 joints
    mean, variance = 1.0, 3.0  # of 0, 0, 0, 4
    expected = torch.sigmoid((maps - mean) ** 2 / (4 * (variance + 1e-4)) + 0.5)
    torch.testing.assert_close(energy_attention(maps), expected)


def test_salient_joints_and_frames_are_dropped_and_the_rest_rescaled():
    maps = torch.ones(2, 3, 4, 5)  # B, C, T, V
    maps[:, :, :, 2] = 9.0  # joint 2 stands out in every frame
    maps[:, :, 1, :] = 9.0  # so does frame 1 at every joint
    out = energy_drop(maps, keep_prob=0.7)
    assert (out[:, :, :, 2] == 0).all() and (out[:, :, 1] == 0).all()
    kept = out[out != 0]
    # 4 of 5 joints kept (× 5/4), then 3 of 4 frames (× 4/3) of the ones
    torch.testing.assert_close(kept, torch.full_like(kept, 5 / 4 * 4 / 3))
    assert kept.numel() == 2 * 3 * 3 * 4


def test_a_uniform_map_keeps_everything():
    maps = torch.randn(2, 3, 1, 1).expand(2, 3, 4, 5).contiguous()  # constant per channel
    torch.testing.assert_close(energy_drop(maps, keep_prob=0.7), maps)
