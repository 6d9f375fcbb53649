import pytest
import torch

from skelssl.models.heads import projection_head
from skelssl.models.stgcn import STGCN
from skelssl.skeleton import NTU25


@pytest.mark.parametrize("layout, persons", [("ntu25", 2), ("ucla20", 1)])
def test_shapes_across_layouts(layout, persons):
    model = STGCN(layout, hidden_channels=4, feature_dim=32).eval()
    x = torch.randn(3, 3, 20, 25 if layout == "ntu25" else 20, persons)
    assert model(x).shape == (3, 32) and model.feature_dim == 32
    assert model.feature_maps(x).shape == (3 * persons, 32, 5, x.shape[3])  # two stride-2 blocks


def test_quarter_width_matches_the_papers_plan():
    model = STGCN("ntu25")  # hidden 16 = 1/4 width, feature 256
    widths = [b.gcn.conv.out_channels // 3 for b in model.blocks]
    assert widths == [16, 16, 16, 16, 32, 32, 32, 64, 64, 256]
    assert model.blocks[0].residual is None and isinstance(model.blocks[1].residual,
                                                           torch.nn.Identity)
    assert [b.tcn[2].stride[0] for b in model.blocks] == [1, 1, 1, 1, 2, 1, 1, 2, 1, 1]
    assert model.blocks[0].tcn[4].p == 0.0 and model.blocks[5].tcn[4].p == 0.5
    torch.testing.assert_close(model.adjacency, torch.tensor(NTU25.adjacency()))
    assert model.blocks[3].edge_importance.shape == (3, 25, 25)


def test_persons_are_averaged_and_absent_order_does_not_matter():
    model = STGCN("ntu25", hidden_channels=4, feature_dim=8, dropout=0.0).eval()
    x = torch.randn(2, 3, 12, 25, 2)
    swapped = x.flip(-1)
    torch.testing.assert_close(model(x), model(swapped))


def test_projection_head():
    head = projection_head(256, 256, 128)
    assert head(torch.randn(5, 256)).shape == (5, 128)


@pytest.mark.parametrize("weight_init", ["normal", "kaiming"])
def test_weight_init_draws_each_convolution_from_its_scheme(weight_init):
    torch.manual_seed(0)
    model = STGCN("ntu25", hidden_channels=16, feature_dim=256, weight_init=weight_init)
    temporal = model.blocks[8].tcn[2]  # 64 → 64 channels, 9×1 kernel: 36,864 weights
    fan_out = temporal.out_channels * 9
    expected = 0.02 if weight_init == "normal" else (2.0 / fan_out) ** 0.5  # 0.02 | 0.059
    assert temporal.weight.std().item() == pytest.approx(expected, rel=0.05)
    assert temporal.weight.mean().abs().item() < 0.1 * expected
    assert not temporal.bias.any()
    norm = model.blocks[8].tcn[3]
    if weight_init == "kaiming":
        assert torch.equal(norm.weight, torch.ones_like(norm.weight))
    else:
        assert 0 < (norm.weight - 1).abs().max().item() < 0.2  # N(1, 0.02)
