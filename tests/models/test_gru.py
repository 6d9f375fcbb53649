"""The sequence encoder and decoder: shapes, flattening order, padding invariance."""

import pytest
import torch

from skelssl.models.gru import (
    BiGRU,
    BiGRUConfig,
    BiLSTM,
    GRUDecoder,
    flatten_frames,
    last_valid,
)
from skelssl.skeleton import load_layout
from skelssl.transforms.masks import temporal_average


def test_flatten_frames_orders_persons_then_joints_then_coordinates():
    x = torch.arange(2 * 3 * 4 * 2, dtype=torch.float32).view(1, 2, 3, 4, 2)  # N C T V M
    frames = flatten_frames(x)
    assert frames.shape == (1, 3, 2 * 4 * 2)
    t, m, v, c = 1, 1, 2, 0
    assert frames[0, t, (m * 4 + v) * 2 + c] == x[0, c, t, v, m]


def test_bigru_from_config_sizes_its_input_from_layout_and_persons():
    encoder = BiGRU.from_config(BiGRUConfig(hidden_size=8), layout=load_layout("ucla20"),
                                in_channels=3, persons=1)
    assert encoder.input_size == 60 and encoder.feature_dim == 16
    x = torch.randn(4, 3, 7, 20, 1)
    assert encoder(x).shape == (4, 16)


@pytest.mark.parametrize("kind", [BiGRU, BiLSTM])
def test_padding_never_reaches_the_features(kind):
    torch.manual_seed(0)
    encoder = kind(6, hidden_size=5, layers=2, dropout=0.0).eval()
    assert isinstance(encoder.recurrent, torch.nn.LSTM if kind is BiLSTM else torch.nn.GRU)
    x = torch.randn(2, 3, 9, 2, 1)
    lengths = torch.tensor([9, 4])
    padded = x.clone()
    padded[1, :, 4:] = 100.0  # garbage beyond the length
    frames = encoder.frames(padded, lengths)
    assert not frames[1, 4:].any()
    alone = encoder(x[1:, :, :4], torch.tensor([4]))
    torch.testing.assert_close(encoder(padded, lengths)[1:], alone)


def test_temporal_average_and_last_valid_use_lengths():
    frames = torch.arange(8, dtype=torch.float32).view(2, 4, 1)
    lengths = torch.tensor([2, 4])
    assert temporal_average(frames, lengths).flatten().tolist() == [0.5, 5.5]
    assert last_valid(frames, lengths).flatten().tolist() == [1, 7]


def test_decoder_outputs_frames_in_the_open_unit_interval():
    decoder = GRUDecoder(16, 60, layers=2, dropout=0.2)
    out = decoder(torch.randn(3, 16) * 10, 11)
    assert out.shape == (3, 11, 60) and out.abs().max() < 1


@pytest.mark.parametrize("direction", ["bidirectional", "forward_pair"])
def test_xavier_init_draws_weight_matrices_in_their_xavier_bound_and_leaves_biases(direction):
    """ISC's released code: Xavier-uniform on every weight matrix of the recurrence."""
    torch.manual_seed(0)
    torch_init = BiGRU(60, hidden_size=32, layers=2, direction=direction)
    torch.manual_seed(0)
    xavier = BiGRU(60, hidden_size=32, layers=2, direction=direction, init="xavier")
    for (name, weight), (_, reference) in zip(xavier.recurrent.named_parameters(),
                                              torch_init.recurrent.named_parameters(),
                                              strict=True):
        if weight.dim() == 1:
            torch.testing.assert_close(weight, reference)  # biases: PyTorch's, untouched
            continue
        fan_out, fan_in = weight.shape
        bound = (6 / (fan_in + fan_out)) ** 0.5
        assert weight.abs().max() <= bound and weight.abs().max() > 0.9 * bound, name
        assert not torch.equal(weight, reference), name  # same seed: redrawn, not PyTorch's
