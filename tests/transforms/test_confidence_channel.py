"""A keypoint confidence channel rides along: geometric transforms, preprocessing and streams
act on the coordinates and leave the confidence as it is."""

import dataclasses

import torch

from skelssl.skeleton import BUILTIN_LAYOUTS
from skelssl.transforms.channels import on_coordinates
from skelssl.transforms.preprocess import Preprocess
from skelssl.transforms.spatial import shear
from skelssl.transforms.streams import stream

BODY25 = BUILTIN_LAYOUTS["body25"]  # OpenPose: names shoulders and a spine
SCORED = dataclasses.replace(BODY25, scores=True)


def keypoints(n=3, t=6, m=1, seed=0):
    """(x, y) in pixels and a confidence in (0, 1): (N, 3, T, 25, M)."""
    g = torch.Generator().manual_seed(seed)
    xy = torch.rand(n, 2, t, BODY25.num_joints, m, generator=g) * 500 + 100
    score = torch.rand(n, 1, t, BODY25.num_joints, m, generator=g) * 0.8 + 0.1
    return torch.cat([xy, score], dim=1)


def test_a_geometric_transform_moves_the_coordinates_and_keeps_the_confidence():
    x = keypoints()
    out = on_coordinates(lambda v: shear(v, 0.5, torch.Generator().manual_seed(3)), x, SCORED)
    expected = shear(x[:, :2], 0.5, torch.Generator().manual_seed(3))
    torch.testing.assert_close(out[:, :2], expected)
    torch.testing.assert_close(out[:, 2], x[:, 2])
    assert not torch.allclose(out[:, :2], x[:, :2])


def test_without_a_confidence_channel_the_transform_sees_every_channel():
    x = keypoints()[:, :2]
    seen = []
    on_coordinates(lambda v: seen.append(v.shape[1]) or v, x, BODY25)
    assert seen == [2] and BODY25.coordinates(2) == 2 and SCORED.coordinates(3) == 2


def test_centring_and_view_alignment_leave_the_confidence():
    x = keypoints()
    lengths = torch.tensor([6, 4, 6])
    out, _ = Preprocess(SCORED, persons=1, center="frame", align_view=True, frames=0)(x, lengths)
    plain, _ = Preprocess(BODY25, persons=1, center="frame", align_view=True, frames=0)(
        x[:, :2], lengths)
    torch.testing.assert_close(out[:, :2], plain)
    torch.testing.assert_close(out[:, 2, :4], x[:, 2, :4])  # valid frames of every sample
    centre = out[:, :2, :4, BODY25.center]
    assert centre.abs().max() < 1e-3  # the centre joint at the origin in every frame


def test_bone_and_motion_streams_of_coordinates_carry_the_joint_confidence():
    x = keypoints()
    for name in ("bone", "motion"):
        out = stream(x, name, SCORED)
        torch.testing.assert_close(out[:, :2], stream(x[:, :2], name, BODY25))
        torch.testing.assert_close(out[:, 2], x[:, 2])
