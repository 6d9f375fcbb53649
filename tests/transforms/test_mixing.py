"""ActCLR's mixing transforms against their definitions."""

from __future__ import annotations

import math

import pytest
import torch

from skelssl.skeleton import NTU25
from skelssl.transforms.mixing import (
    cutmix,
    mixup,
    partner_index,
    region_mask,
    resizemix,
    skeleton_adain,
)

N, T, V, M = 8, 16, NTU25.num_joints, 2
PARTS = list(NTU25.parts.values())


def batch(seed: int = 0) -> torch.Tensor:
    return torch.randn(N, 3, T, V, M, generator=torch.Generator().manual_seed(seed))


def test_every_sample_gets_another_sample_as_its_partner():
    for seed in range(5):
        partner = partner_index(N, torch.Generator().manual_seed(seed))
        assert sorted(partner.tolist()) == list(range(N))
        assert (partner != torch.arange(N)).all()
    with pytest.raises(ValueError, match="at least 2 samples"):
        partner_index(1)


def test_skeleton_adain_swaps_the_spatial_mean_and_the_temporal_std_exactly():
    # one channel, 2 frames × 2 joints, one person; rows are frames
    x = torch.tensor([[[1.0, 3.0], [5.0, 7.0]], [[0.0, 2.0], [2.0, 8.0]]]).view(2, 1, 2, 2, 1)
    # sample 0: spatial means 2, 6; temporal stds 2√2, 2√2. sample 1: 1, 5; √2, 3√2
    out = skeleton_adain(x, torch.tensor([1, 0]), eps=0.0)
    expected = torch.tensor([[0.5, 2.5], [4.5, 6.5]])  # (x0 − μ0)/σ0 · σ1 + μ1
    torch.testing.assert_close(out[0, 0, :, :, 0], expected)
    back = (torch.tensor([[0.0, 2.0], [2.0, 8.0]]) - torch.tensor([[1.0], [5.0]])) / torch.tensor(
        [math.sqrt(2), 3 * math.sqrt(2)]) * (2 * math.sqrt(2)) + torch.tensor([[2.0], [6.0]])
    torch.testing.assert_close(out[1, 0, :, :, 0], back)


def test_mixup_is_the_convex_combination_with_its_lambda():
    x = batch()
    partner = partner_index(N, torch.Generator().manual_seed(0))
    mixed, lam = mixup(x, partner, torch.Generator().manual_seed(1))
    assert ((lam >= 0) & (lam <= 1)).all() and lam.unique().numel() > 1
    torch.testing.assert_close(mixed, (1 - lam.view(-1, 1, 1, 1, 1)) * x
                               + lam.view(-1, 1, 1, 1, 1) * x[partner])


def test_a_region_is_whole_body_parts_over_one_window_of_frames():
    mask = region_mask(batch(), PARTS, (2, 3), (3, 5), torch.Generator().manual_seed(0))
    for sample in mask:
        joints = sample.amax(dim=0).bool()
        covered = [part for part in PARTS if joints[list(part)].all()]
        assert 2 <= len(covered) <= 3
        assert joints.sum() == sum(len(part) for part in covered)  # nothing else
        frames = torch.nonzero(sample.amax(dim=1)).flatten()
        assert 3 <= frames.numel() <= 5 and (frames.diff() == 1).all()
        assert (sample[frames][:, joints] == 1).all()  # a full rectangle


def test_cutmix_pastes_the_partner_inside_the_region_only():
    x = batch()
    partner = partner_index(N, torch.Generator().manual_seed(2))
    mask = region_mask(x, PARTS, (1, 2), (4, 8), torch.Generator().manual_seed(3))
    out = cutmix(x, partner, mask)
    inside = mask.bool()[:, None, :, :, None].expand_as(x)
    torch.testing.assert_close(out[inside], x[partner][inside])
    torch.testing.assert_close(out[~inside], x[~inside])


def test_resizemix_pastes_the_whole_partner_resized_to_the_window():
    x = batch()
    partner = partner_index(N, torch.Generator().manual_seed(2))
    full = torch.zeros(N, T, V)
    full[:, :, list(PARTS[0])] = 1  # every frame: the partner unresized
    torch.testing.assert_close(resizemix(x, partner, full), cutmix(x, partner, full))
    half = torch.zeros(N, T, V)
    half[:, 4:12, list(PARTS[1])] = 1  # 8 frames show the partner's 16
    out = resizemix(x, partner, half)
    joint = PARTS[1][0]
    torch.testing.assert_close(out[:, :, 4, joint], x[partner][:, :, 0, joint])
    torch.testing.assert_close(out[:, :, 11, joint], x[partner][:, :, T - 1, joint])
    torch.testing.assert_close(out[:, :, :4], x[:, :, :4])
