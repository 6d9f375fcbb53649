"""Optimisers: LARS against hand-computed steps, parameter groups (biases and normalisation
weights apart, a method's own groups with lr_scale), the choice by config."""

import math

import pytest
import torch
from torch import nn

from skelssl.config import TrainConfig
from skelssl.engine.optim import LARS, bias_and_norm_parameters, make_optimizer, parameter_groups


class Tiny(nn.Module):
    """A weight [[3, 4]], a bias [1] and a BatchNorm (weight and bias)."""

    def __init__(self) -> None:
        super().__init__()
        self.linear = nn.Linear(2, 1)
        self.norm = nn.BatchNorm1d(1)
        with torch.no_grad():
            self.linear.weight.copy_(torch.tensor([[3.0, 4.0]]))
            self.linear.bias.fill_(1.0)


def set_grads(model: Tiny) -> None:
    model.linear.weight.grad = torch.tensor([[0.6, 0.8]])
    model.linear.bias.grad = torch.tensor([0.5])
    model.norm.weight.grad = torch.tensor([0.25])
    model.norm.bias.grad = torch.tensor([0.0])


def lars_by_hand(w, g, v, lr, momentum, decay, eta, adapt):
    """One SimCLR LARS step on a list of floats."""
    g = [gi + decay * wi for gi, wi in zip(g, w, strict=True)]
    w_norm, g_norm = math.hypot(*w), math.hypot(*g)
    trust = eta * w_norm / g_norm if adapt and w_norm > 0 and g_norm > 0 else 1.0
    v = [momentum * vi + lr * trust * gi for vi, gi in zip(v, g, strict=True)]
    return [wi - vi for wi, vi in zip(w, v, strict=True)], v


def test_lars_steps_match_the_hand_computed_update():
    model = Tiny()
    train = TrainConfig(optimizer="lars", lr=2.0, momentum=0.9, weight_decay=0.1,
                        lars_eta=0.001, decay_bias_and_norm=False)
    optimizer = make_optimizer(model, train)
    assert isinstance(optimizer, LARS)
    w, v_w = [3.0, 4.0], [0.0, 0.0]
    b, v_b = [1.0], [0.0]
    for _ in range(2):
        set_grads(model)
        optimizer.step()
        w, v_w = lars_by_hand(w, [0.6, 0.8], v_w, 2.0, 0.9, 0.1, 0.001, adapt=True)
        b, v_b = lars_by_hand(b, [0.5], v_b, 2.0, 0.9, 0.0, 0.001, adapt=False)
        torch.testing.assert_close(model.linear.weight[0], torch.tensor(w))
        torch.testing.assert_close(model.linear.bias, torch.tensor(b))
    assert b == pytest.approx([1.0 - 2.0 * 0.5 - (0.9 * 1.0 + 2.0 * 0.5)])  # no trust, no decay


def test_lars_first_step_in_numbers():
    model = Tiny()
    optimizer = LARS([{"params": [model.linear.weight]}], lr=2.0, momentum=0.9,
                     weight_decay=0.1, eta=0.001)
    set_grads(model)
    optimizer.step()
    # g + λw = [0.9, 1.2] (norm 1.5), trust 0.001·5/1.5, step 2·trust·g = [0.006, 0.008]
    torch.testing.assert_close(model.linear.weight, torch.tensor([[2.994, 3.992]]))


def test_nesterov_lars_looks_ahead():
    model = Tiny()
    optimizer = LARS([{"params": [model.linear.bias], "lars_adapt": False}], lr=1.0,
                     momentum=0.5, nesterov=True)
    for _ in range(2):
        set_grads(model)
        optimizer.step()
    # v1 = 0.5, step 0.5·0.5 + 0.5 = 0.75; v2 = 0.75, step 0.5·0.75 + 0.5 = 0.875
    torch.testing.assert_close(model.linear.bias, torch.tensor([1.0 - 0.75 - 0.875]))


def test_biases_and_norm_weights_are_found_by_name_and_layer():
    model = Tiny()
    exempt = bias_and_norm_parameters(model)
    assert exempt == {id(model.linear.bias), id(model.norm.weight), id(model.norm.bias)}
    gru = nn.GRU(2, 3)
    assert {id(p) for n, p in gru.named_parameters() if n.startswith("bias")} == \
        bias_and_norm_parameters(gru)


def test_sgd_keeps_one_group_of_every_parameter_by_default():
    model = Tiny()
    optimizer = make_optimizer(model, TrainConfig(lr=0.1, weight_decay=1e-4))
    assert isinstance(optimizer, torch.optim.SGD) and len(optimizer.param_groups) == 1
    assert optimizer.param_groups[0]["params"] == list(model.parameters())
    split = make_optimizer(model, TrainConfig(decay_bias_and_norm=False, weight_decay=1e-4))
    assert [g["weight_decay"] for g in split.param_groups] == [1e-4, 0.0]
    assert split.param_groups[0]["params"] == [model.linear.weight]


def test_adam_and_adamw_take_their_betas():
    model = Tiny()
    adam = make_optimizer(model, TrainConfig(optimizer="adam", adam_betas=[0.8, 0.9]))
    adamw = make_optimizer(model, TrainConfig(optimizer="adamw", weight_decay=0.05))
    assert type(adam) is torch.optim.Adam and adam.param_groups[0]["betas"] == (0.8, 0.9)
    assert type(adamw) is torch.optim.AdamW and adamw.param_groups[0]["weight_decay"] == 0.05


def test_a_methods_own_groups_are_kept_and_split():
    model = Tiny()
    model.param_groups = lambda: [{"params": [model.linear.weight, model.linear.bias]},
                                  {"params": list(model.norm.parameters()), "lr_scale": 0.1}]
    groups = parameter_groups(model, "lars", decay_bias_and_norm=False)
    assert [len(g["params"]) for g in groups] == [1, 1, 2]
    assert [g.get("lars_adapt", True) for g in groups] == [True, False, False]
    assert groups[2]["lr_scale"] == 0.1 and groups[2]["weight_decay"] == 0.0
    model.linear.weight.requires_grad_(False)
    assert [len(g["params"]) for g in parameter_groups(model, "sgd", True)] == [1, 2]
