"""AimCLR's extreme augmentations against their definitions."""

from __future__ import annotations

import math

import pytest
import torch

from skelssl.skeleton import NTU25
from skelssl.transforms.extreme import (
    axis_mask,
    bone_rescale,
    gaussian_kernels,
    main_axis_rotation,
    noise_sometimes,
    spatial_flip,
    speed_resample,
    temporal_blur,
    time_flip,
)

N, T, V, M = 64, 20, NTU25.num_joints, 2


def batch(seed: int = 0) -> torch.Tensor:
    return torch.randn(N, 3, T, V, M, generator=torch.Generator().manual_seed(seed))


def generator(seed: int = 1) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def changed(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """(N,) bool: the samples a transform altered."""
    return (x != y).flatten(1).any(dim=1)


def test_flip_swaps_left_and_right_joints_and_twice_is_the_identity():
    x = batch()
    y = spatial_flip(x, NTU25.flip_index, 1.0, generator())
    left, right = NTU25.left_right[0]
    torch.testing.assert_close(y[:, :, :, left], x[:, :, :, right])
    torch.testing.assert_close(y[:, :, :, NTU25.center], x[:, :, :, NTU25.center])
    torch.testing.assert_close(spatial_flip(y, NTU25.flip_index, 1.0, generator()), x)


@pytest.mark.parametrize("transform", [
    lambda x, p, g: spatial_flip(x, NTU25.flip_index, p, g),
    lambda x, p, g: axis_mask(x, p, g),
    lambda x, p, g: noise_sometimes(x, 0.01, p, g),
    lambda x, p, g: temporal_blur(x, torch.full((N,), T), p, sigma_range=(1.0, 2.0),
                                  generator=g),  # σ 0.1 leaves a sequence as it is
])
def test_a_transform_reaches_about_its_share_of_samples(transform):
    x = batch()
    assert not changed(x, transform(x, 0.0, generator())).any()
    assert changed(x, transform(x, 1.0, generator())).all()
    share = changed(x, transform(x, 0.5, generator())).float().mean().item()
    assert 0.25 < share < 0.75


def test_main_axis_rotation_keeps_bone_lengths_and_turns_at_most_30_degrees():
    x = batch()
    y = main_axis_rotation(x, 30.0, 1.0, generator())
    parents = torch.tensor(NTU25.parents)
    torch.testing.assert_close((y - y[:, :, :, parents]).norm(dim=1),
                               (x - x[:, :, :, parents]).norm(dim=1))
    # the angle of a rotation from its trace: a vector turns by at most the total rotation
    cos = torch.nn.functional.cosine_similarity(x.flatten(2), y.flatten(2), dim=1)
    turned = torch.rad2deg(torch.arccos(cos.clamp(-1, 1)))
    assert turned.max() < 30 + 3 * math.sqrt(2) and turned.max() > 10


def test_main_axis_rotation_without_the_small_ones_is_about_one_axis():
    x = batch()
    y = main_axis_rotation(x, 30.0, 0.0, generator())
    kept = (torch.isclose(x, y, atol=1e-5)).flatten(2).all(dim=2)  # (N, C): untouched axes
    assert (kept.sum(dim=1) == 1).all()  # each sample turns about exactly one axis


def test_axis_mask_zeroes_exactly_one_coordinate_axis():
    x = batch()
    y = axis_mask(x, 1.0, generator())
    zero = (y == 0).flatten(2).all(dim=2)  # (N, C)
    assert (zero.sum(dim=1) == 1).all()
    torch.testing.assert_close(y[~zero], x[~zero])


def test_noise_has_its_scale_and_leaves_absent_persons_zero():
    x = batch()
    x[:, :, :, :, 1] = 0
    y = noise_sometimes(x, 0.01, 1.0, generator())
    assert (y[:, :, :, :, 1] == 0).all()
    assert abs((y - x)[:, :, :, :, 0].std().item() - 0.01) < 0.001


def test_gaussian_kernels_have_their_shape_and_mass():
    sigma = torch.tensor([0.5, 2.0])
    kernel = gaussian_kernels(sigma, 15)
    torch.testing.assert_close(kernel.sum(dim=1), torch.ones(2))
    torch.testing.assert_close(kernel, kernel.flip(1))
    raw = gaussian_kernels(sigma, 15, normalise=False)
    assert raw[:, 7].tolist() == [1.0, 1.0]
    torch.testing.assert_close(raw[1, 8], torch.tensor(math.exp(-1 / 8)))


def test_blur_of_a_constant_sequence_is_constant_and_padding_stays_zero():
    lengths = torch.tensor([T, 7, 1, T] * (N // 4))
    valid = (torch.arange(T)[None, :] < lengths[:, None]).view(N, 1, T, 1, 1)
    x = torch.full((N, 3, T, V, M), 2.5) * valid  # padded frames zero
    y = temporal_blur(x, lengths, 1.0, generator=generator())
    torch.testing.assert_close(y, x)


def test_blur_is_a_kernel_weighted_mean_inside_the_sequence():
    x = batch()
    lengths = torch.full((N,), T)
    y = temporal_blur(x, lengths, 1.0, sigma_range=(1.0, 1.0), generator=generator())
    kernel = gaussian_kernels(torch.tensor([1.0]), 15)[0]
    t = 10  # far enough from both ends that the whole kernel lies inside
    expected = (x[:, :, t - 7:t + 8] * kernel.view(1, 1, 15, 1, 1)).sum(dim=2)
    torch.testing.assert_close(y[:, :, t], expected)
    released = temporal_blur(x, lengths, 1.0, sigma_range=(1.0, 1.0), normalise=False,
                             generator=generator())
    raw = gaussian_kernels(torch.tensor([1.0]), 15, normalise=False)[0]
    torch.testing.assert_close(released[:, :, t], (x[:, :, t - 7:t + 8] * raw.view(
        1, 1, 15, 1, 1)).sum(dim=2))


def test_speed_resample_plays_the_sequence_faster_or_slower_from_its_start():
    t = torch.arange(T).float().view(1, 1, T, 1, 1).expand(N, 3, T, V, M)  # value = time
    y = speed_resample(t, 1.0, (0.5, 1.5), generator())
    time = y[:, 0, :, 0, 0]
    assert (time[:, 0] == 0).all()  # every sample starts at its first frame
    played = time != 0
    played[:, 0] = True
    frames = played.sum(dim=1)  # ⌊T·r⌋ frames, zeros after
    assert frames.min() >= T // 2 and frames.max() <= T
    steps = torch.stack([time[n, 1:frames[n]].diff().mean() if frames[n] > 2 else
                         torch.tensor(1.0) for n in range(N)])
    # squeezed to ⌊T·r⌋ < T frames it runs faster, (T − 1)/(⌊T·r⌋ − 1) frames per frame;
    # stretched (r > 1) it runs slower and its first T frames fill the output
    faster = frames < T
    expected = (T - 1) / (frames[faster].float() - 1).clamp(min=1)
    torch.testing.assert_close(steps[faster], expected, rtol=1e-4, atol=1e-4)
    assert (steps[~faster] <= 1 + 1e-5).all()
    assert (steps > 1.2).any() and (steps < 0.9).any()


def test_bone_rescale_shrinks_each_bone_by_its_own_factor_and_keeps_directions():
    x = batch()
    parents = list(NTU25.parents)
    y = bone_rescale(x, parents, 0.5, generator())
    index = torch.tensor(parents)
    before, after = x - x[:, :, :, index], y - y[:, :, :, index]
    ratio = after.norm(dim=1) / before.norm(dim=1).clamp(min=1e-6)  # (N, T, V, M)
    bones = [v for v, p in enumerate(parents) if v != p]
    ratio = ratio[:, :, bones]
    torch.testing.assert_close(ratio, ratio[:, :1].expand_as(ratio))  # one factor per bone
    assert ratio.max() <= 0.5 + 1e-5 and ratio.min() >= 0
    cos = torch.nn.functional.cosine_similarity(before[:, :, :, bones], after[:, :, :, bones],
                                                dim=1)
    assert (cos[ratio > 1e-3] > 0.999).all()  # directions kept
    torch.testing.assert_close(y[:, :, :, NTU25.center], x[:, :, :, NTU25.center])


def test_time_flip_twice_is_the_identity():
    x = batch()
    y = time_flip(x, 1.0, generator())
    torch.testing.assert_close(y[:, :, 0], x[:, :, -1])
    torch.testing.assert_close(time_flip(y, 1.0, generator()), x)
