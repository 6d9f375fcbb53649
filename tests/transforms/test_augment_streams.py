"""Augmentations and streams against their definitions."""

import pytest
import torch

from skelssl.skeleton import Layout
from skelssl.transforms.spatial import random_shear_matrices, shear
from skelssl.transforms.streams import bone, motion, stream, velocity
from skelssl.transforms.temporal import mirror_index, temporal_crop


def test_shear_is_a_per_sample_matrix_product():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(4, 3, 5, 2, 1)
    out = shear(x, 0.5, generator=g)
    r = random_shear_matrices(4, 0.5, torch.Generator().manual_seed(0))
    assert torch.equal(torch.diagonal(r, dim1=1, dim2=2), torch.ones(4, 3))
    assert r.abs().max() <= 1 and not torch.equal(r[0], r[1])
    off = r[~torch.eye(3, dtype=bool).expand(4, 3, 3)]
    assert off.abs().max() <= 0.5
    expected = torch.stack([(r[i] @ x[i].reshape(3, -1)).reshape(3, 5, 2, 1) for i in range(4)])
    torch.testing.assert_close(out, expected)


def test_mirror_index_repeats_the_edge():
    index = torch.arange(-3, 9)
    assert mirror_index(index, 6).tolist() == [2, 1, 0, 0, 1, 2, 3, 4, 5, 5, 4, 3]


def test_temporal_crop_takes_a_window_of_the_mirrored_sequence():
    t = 12  # pad = 2: padded sequence is 1 0 | 0..11 | 11 10
    x = torch.arange(t, dtype=torch.float32).view(1, 1, t, 1, 1).repeat(64, 1, 1, 1, 1)
    out = temporal_crop(x, padding_ratio=6, generator=torch.Generator().manual_seed(1))
    padded = [1, 0, *range(12), 11, 10]
    starts = set()
    for row in out[:, 0, :, 0, 0].tolist():
        matches = [s for s in range(5) if padded[s:s + t] == row]
        assert len(matches) == 1
        starts.add(matches[0])
    assert starts == {0, 1, 2, 3, 4}


def chain():
    return Layout("chain", ("a", "b", "c"), parents=(1, 1, 1), center=1)


def test_streams_match_their_definitions():
    x = torch.zeros(1, 1, 4, 3, 1)
    x[0, 0, :3, :, 0] = torch.tensor([[1.0, 2.0, 4.0], [2.0, 4.0, 8.0], [4.0, 8.0, 16.0]])
    lengths = torch.tensor([3])
    m = motion(x, lengths)[0, 0, :, :, 0]
    assert m.tolist() == [[1, 2, 4], [2, 4, 8], [0, 0, 0], [0, 0, 0]]
    v = velocity(x, lengths)[0, 0, :, :, 0]
    assert v.tolist() == [[1, 2, 4], [2, 4, 8], [2, 4, 8], [0, 0, 0]]  # last valid repeated
    b = bone(x, chain())[0, 0, :, :, 0]
    assert b[0].tolist() == [-1, 0, 2]  # a - b, centre 0, c - b
    bm = stream(x, "bone_motion", chain(), lengths)[0, 0, :, :, 0]
    assert bm[0].tolist() == [-1, 0, 2] and bm[2].tolist() == [0, 0, 0]
    assert torch.equal(stream(x, "joint", chain()), x)
    full = motion(x)[0, 0, :, :, 0]
    assert full[2].tolist() == [-4, -8, -16] and full[3].tolist() == [0, 0, 0]


def test_velocity_of_one_frame_is_zero():
    x = torch.ones(1, 3, 5, 2, 1)
    assert not velocity(x, torch.tensor([1])).any()


def test_unknown_stream():
    with pytest.raises(ValueError, match="unknown stream 'bones'"):
        stream(torch.zeros(1, 3, 2, 3, 1), "bones", chain())
