"""CRRL's pieces: key MLP momentum, reconstruction targets, loss composition, config checks."""

import pytest
import torch
from torch import nn

from conftest import factory, tiny_config
from skelssl.config import load_config
from skelssl.errors import ConfigError
from skelssl.methods import Batch
from skelssl.methods.crrl import CRRL, CRRLConfig
from skelssl.models.gru import BiGRU, flatten_frames
from skelssl.skeleton import load_layout
from skelssl.transforms.streams import velocity
from skelssl.transforms.temporal import reverse_valid

LAYOUT = load_layout("ucla20")


def make_method(**options) -> CRRL:
    torch.manual_seed(0)
    config = CRRLConfig(queue_size=16, mlp_dim=8, **options)
    return CRRL(config, layout=LAYOUT,
                encoders=factory(lambda: BiGRU(60, hidden_size=6, dropout=0.0)))


def batch(n=8, frames=10, seed=0) -> Batch:
    g = torch.Generator().manual_seed(seed)
    lengths = torch.randint(3, frames + 1, (n,), generator=g)
    lengths[0] = frames
    x = torch.rand(n, 3, frames, 20, 1, generator=g) * 2 - 1
    return Batch(x * (torch.arange(frames) < lengths[:, None]).view(n, 1, frames, 1, 1), lengths)


def train_steps(method, steps=3, lr=0.5):
    params = [p for p in method.parameters() if p.requires_grad]
    optimizer = torch.optim.SGD(params, lr=lr)
    for step in range(steps):
        out = method.training_step(batch(seed=step), 0, torch.Generator().manual_seed(step))
        optimizer.zero_grad()
        out["loss"].backward()
        optimizer.step()
    return out


def snapshot(module: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.clone() for k, v in module.state_dict().items()}


def changed(before, module) -> bool:
    return any(not torch.equal(before[k], v) for k, v in module.state_dict().items())


def test_momentum_mlp_one_keeps_the_key_mlp_bit_identical():
    method = make_method(momentum_encoder=0.5, momentum_mlp=1.0)
    mlp_k, encoder_k, mlp_q = snapshot(method.mlp_k), snapshot(method.encoder_k), snapshot(
        method.mlp_q)
    train_steps(method)
    assert not changed(mlp_k, method.mlp_k)
    assert changed(encoder_k, method.encoder_k) and changed(mlp_q, method.mlp_q)
    moving = make_method(momentum_mlp=0.5)
    before = snapshot(moving.mlp_k)
    train_steps(moving)
    assert changed(before, moving.mlp_k)


class Replay(nn.Module):
    """A decoder stand-in returning fixed frames: isolates the reconstruction targets."""

    def __init__(self, frames: torch.Tensor) -> None:
        super().__init__()
        self.frames = frames

    def forward(self, latent, frames):
        return self.frames[: latent.shape[0]]


@pytest.mark.parametrize("direction", ["forward", "reverse"])
def test_reconstruction_targets_are_the_sequence_and_its_reversed_valid_part(direction):
    method = make_method(contrast=False, reconstruct=direction)
    b = batch()
    forward, reverse = flatten_frames(b.x), flatten_frames(reverse_valid(b.x, b.lengths))
    assert not torch.equal(forward, reverse)
    right, wrong = (forward, reverse) if direction == "forward" else (reverse, forward)
    frames = method.encoder.frames(b.x, b.lengths)
    method.decoder = Replay(right)
    assert method.reconstruct(frames, b.x, b.lengths)[f"reconstruct_{direction}"] == 0
    method.decoder = Replay(wrong)
    assert method.reconstruct(frames, b.x, b.lengths)[f"reconstruct_{direction}"] > 0.1


def test_both_directions_and_the_weighted_distillation_make_the_loss():
    method = make_method(contrast=True, reconstruct="both", teacher="unused", distill_weight=0.1)
    out = method.training_step(batch(), 0, torch.Generator().manual_seed(0))
    assert set(out) == {"contrast", "reconstruct_forward", "reconstruct_reverse", "distill",
                        "loss", "spread", "cosine"}  # the last two are logged, not trained
    expected = (out["contrast"] + out["reconstruct_forward"] + out["reconstruct_reverse"]
                + 0.1 * out["distill"])
    torch.testing.assert_close(out["loss"], expected)


def test_teacher_dropout_keeps_the_teacher_in_training_mode_but_frozen():
    method = make_method(contrast=False, reconstruct="both", teacher="unused",
                         teacher_dropout=True)
    method.train()
    assert method.teacher.training and not any(p.requires_grad
                                                for p in method.teacher.parameters())
    method.eval()
    assert not method.teacher.training


def test_the_teacher_stays_frozen_and_in_eval_mode():
    method = make_method(contrast=False, reconstruct="both", teacher="unused")
    method.train()
    assert not method.teacher.training and method.encoder.training
    assert not any(p.requires_grad for p in method.teacher.parameters())
    before = snapshot(method.teacher)
    train_steps(method)
    assert not changed(before, method.teacher)


@pytest.mark.parametrize("positive", ["velocity", "noise", "shear", "rotation"])
def test_every_positive_gives_a_finite_contrastive_loss(positive):
    out = train_steps(make_method(positive=positive), steps=2)
    assert torch.isfinite(out["loss"])


def test_velocity_minmax_scales_each_sample_and_axis_of_the_velocity_to_plus_minus_one():
    b = batch()
    plain = make_method().positive(b.x, b.lengths, None)
    scaled = make_method(velocity_minmax=True).positive(b.x, b.lengths, None)
    torch.testing.assert_close(plain, velocity(b.x, b.lengths))
    for i, length in enumerate(b.lengths.tolist()):
        valid, raw = scaled[i, :, :length], plain[i, :, :length]
        for axis in range(3):
            low, high = raw[axis].min(), raw[axis].max()
            torch.testing.assert_close(valid[axis], 2 * (raw[axis] - low) / (high - low) - 1)
        assert valid.amin(dim=(1, 2, 3)).eq(-1).all() and valid.amax(dim=(1, 2, 3)).eq(1).all()
        assert scaled[i, :, length:].eq(0).all()


def crrl_config(**method) -> dict:
    values = tiny_config("data/x")
    values["method"] = {"name": "crrl", **method}
    values["encoder"] = {"name": "bigru", "hidden_size": 4}
    return values


def test_bad_settings_are_named():
    with pytest.raises(ConfigError, match=r"method\.reconstruct: 'backward' is not one of "
                                          r"'none', 'forward', 'reverse', 'both'"):
        load_config(crrl_config(reconstruct="backward"))
    with pytest.raises(ConfigError, match=r"method\.positive: 'jitter' is not one of"):
        load_config(crrl_config(positive="jitter"))
    with pytest.raises(ConfigError, match="does not apply to positive: shear"):
        make_method(positive="shear", velocity_minmax=True)
    with pytest.raises(ConfigError, match="nothing to learn"):
        load_config(crrl_config(contrast=False))
    stgcn = crrl_config()
    stgcn["encoder"] = {"name": "stgcn", "hidden_channels": 4}
    with pytest.raises(ConfigError, match=r"encoder\.name: method crrl needs an encoder "
                                          r"providing frames; stgcn does not .*bigru, bilstm"):
        load_config(stgcn)
