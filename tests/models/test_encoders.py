"""Every registered encoder on the contract: shapes across layouts, persons and channel counts
(2-D keypoints too), padding that never changes a feature, gradients to every weight, and the
parameter counts the docstrings state."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from skelssl.models import ENCODERS, build_encoder
from skelssl.models.agcn import AGCN
from skelssl.models.gru import BiGRU
from skelssl.models.hcn import HCN
from skelssl.models.masking import FrameMask
from skelssl.models.resnet import ResNet
from skelssl.models.stgcn import STGCN
from skelssl.skeleton import load_layout

SMALL = {"hidden_channels": 4, "base_channels": 4, "feature_dim": 12, "channels": 8,
         "window": 8, "grid": 2, "hidden_size": 6, "dropout": 0.0}
# Encoders whose feature of a sequence padded to T equals that of the sequence alone.
CUT_EXACT = {"stgcn", "agcn", "bigru", "bilstm", "resnet"}


def small(name: str, layout: str, channels: int, persons: int) -> torch.nn.Module:
    cls = ENCODERS[name]
    names = {f.name for f in dataclasses.fields(cls.Config)}
    config = cls.Config(**{k: v for k, v in SMALL.items() if k in names})
    torch.manual_seed(0)
    return build_encoder(config, layout=load_layout(layout), in_channels=channels,
                         persons=persons)


CASES = [(name, layout, channels, persons) for name in ENCODERS
         for layout, persons in (("ntu25", 2), ("ucla20", 1)) for channels in (3, 2)]


@pytest.mark.parametrize("name, layout, channels, persons", CASES)
def test_shapes_and_padding(name, layout, channels, persons):
    encoder = small(name, layout, channels, persons).eval()
    joints = load_layout(layout).num_joints
    g = torch.Generator().manual_seed(1)
    x = torch.randn(3, channels, 16, joints, persons, generator=g)
    lengths = torch.tensor([16, 11, 6])
    with torch.no_grad():
        features = encoder(x, lengths)
        assert features.shape == (3, encoder.feature_dim)
        assert torch.isfinite(features).all()
        garbage = x.clone()
        for i, length in enumerate(lengths.tolist()):
            garbage[i, :, length:] = torch.randn(channels, 16 - length, joints, persons,
                                                 generator=g) * 50
        torch.testing.assert_close(encoder(garbage, lengths), features)  # padding is ignored
        if name in CUT_EXACT:
            alone = encoder(x[2:, :, :6], torch.tensor([6]))
            torch.testing.assert_close(features[2:], alone, rtol=1e-4, atol=1e-5)
        torch.testing.assert_close(encoder(x, torch.full((3,), 16)), encoder(x))


@pytest.mark.parametrize("name", list(ENCODERS))
def test_a_gradient_reaches_every_weight(name):
    encoder = small(name, "ntu25", 3, 2).train()
    x = torch.randn(4, 3, 16, 25, 2)
    encoder(x, torch.tensor([16, 16, 12, 9])).square().sum().backward()
    silent = [n for n, p in encoder.named_parameters() if p.grad is None or not p.grad.any()]
    assert not silent


@pytest.mark.parametrize("encoder, parameters", [
    (lambda: STGCN("ntu25", 3, hidden_channels=64), 3_083_412),  # ST-GCN: about 3.1 M
    (lambda: STGCN("ntu25", 3, hidden_channels=16), 821_380),
    (lambda: AGCN("ntu25", 3, 2, base_channels=64), 3_454_090),  # 2s-AGCN joint: ≈ 3.5 M
    (lambda: AGCN("ntu25", 3, 2, base_channels=16), 881_298),
    (lambda: BiGRU(150, 256, 2), 1_809_408),
    (lambda: BiGRU(150, 1024, 3), 44_998_656),
    (lambda: HCN(3, 25), 519_428),
    (lambda: ResNet(3, 18), 11_168_832),  # torchvision's ResNet-18 without fc: 11.18 M
    (lambda: ResNet(3, 50), 23_500_352),  # ResNet-50 without fc: 23.5 M
])
def test_parameter_counts(encoder, parameters):
    assert sum(p.numel() for p in encoder().parameters()) == parameters


def test_agcn_graphs_start_from_the_layout_and_learn():
    model = AGCN("ntu25", 3, 2, base_channels=8, feature_dim=16)
    gcn = model.blocks[0].gcn
    assert torch.equal(gcn.PA, torch.full((3, 25, 25), 1e-6))
    identity, inward, outward = gcn.adjacency
    assert torch.equal(identity, torch.eye(25))
    # spine (joint 2, index 1) is the parent of the neck: inward feeds the child from it
    torch.testing.assert_close(inward.sum(dim=0)[[0, 20]], torch.tensor([1.0, 0.0]))
    assert outward[20].sum() == 0 and outward[:, 20].sum() == pytest.approx(1.0)
    assert torch.allclose(gcn.bn.weight, torch.full_like(gcn.bn.weight, 1e-6))


def test_hcn_gives_iscs_4096_features_from_64_frames_and_max_pools_persons():
    model = HCN(3, 25).eval()
    x = torch.randn(2, 3, 64, 25, 2)
    features = model(x)
    assert features.shape == (2, 4096)
    first = model(x[..., :1])
    second = model(x[..., 1:])
    torch.testing.assert_close(features, torch.maximum(first, second))


def test_bigru_pooling_and_the_released_forward_pair():
    torch.manual_seed(0)
    x, lengths = torch.randn(2, 3, 7, 4, 1), torch.tensor([7, 5])
    mean, last, states = (BiGRU(12, 5, 2, 0.0, pooling=p).eval() for p in
                          ("mean", "last", "final_states"))
    for model in (last, states):
        model.load_state_dict(mean.state_dict())
    frames = mean.frames(x, lengths)
    torch.testing.assert_close(last(x, lengths)[1], frames[1, 4])
    torch.testing.assert_close(states(x, lengths)[1], torch.cat([frames[1, 4, :5],
                                                                 frames[1, 0, 5:]]))
    pair = BiGRU(12, 5, 1, 0.0, pooling="last", direction="forward_pair").eval()
    sequence = x[:1].permute(0, 2, 4, 3, 1).reshape(1, 7, 12)
    frames = pair.frames(x[:1], lengths[:1])
    with torch.no_grad():  # the "backward" half reads the sequence forward, like the first
        torch.testing.assert_close(frames[..., :5], pair.recurrent.first[0](sequence)[0])
        torch.testing.assert_close(frames[..., 5:], pair.recurrent.second[0](sequence)[0])
    torch.testing.assert_close(pair(x, lengths)[1], pair.frames(x, lengths)[1, 4])


def test_a_frame_mask_keeps_the_lengths_of_the_rows_it_is_cut_to():
    mask = FrameMask(torch.tensor([3, 5]), frames=6, persons=2)  # rows: (0, 0) (0, 1) (1, 0) ...
    assert mask.rows(1, 3).lengths.tolist() == [3, 5]
    assert mask.rows(2).lengths.tolist() == [5, 5] and mask.rows(2).frames == 6
    assert FrameMask(torch.tensor([6, 6]), frames=6, persons=1).rows(1).lengths is None
