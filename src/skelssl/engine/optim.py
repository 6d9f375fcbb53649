"""Optimisers chosen by ``train.optimizer`` (sgd, adam, adamw, lars) and their parameter groups.

A method may give its own parameter groups (``param_groups()``; a group may carry an
``lr_scale`` that multiplies the scheduled learning rate). With ``train.decay_bias_and_norm:
false``, and always for LARS, each group is split into its ordinary weights and its biases and
normalisation weights: those get no weight decay (when so configured) and are never scaled
by LARS's trust ratio — SimCLR's convention.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import torch
from torch import nn

NORMS = (nn.modules.batchnorm._NormBase, nn.LayerNorm, nn.GroupNorm)


class LARS(torch.optim.Optimizer):
    """Layer-wise adaptive rate scaling with classic momentum, as SimCLR's implementation.

    For each parameter p with gradient g: g ← g + λ·p (when the group decays); when the group
    adapts (``lars_adapt``), the trust ratio r = η·‖p‖/‖g‖ (1 when either norm is 0), else
    r = 1; v ← μ·v + lr·r·g; p ← p − v (Nesterov: p ← p − (μ·v + lr·r·g)).
    """

    def __init__(self, params: Iterable[Any], lr: float, momentum: float = 0.9,
                 weight_decay: float = 0.0, eta: float = 0.001, nesterov: bool = False) -> None:
        defaults = {"lr": lr, "momentum": momentum, "weight_decay": weight_decay, "eta": eta,
                    "nesterov": nesterov, "lars_adapt": True}
        super().__init__(params, defaults)

    @torch.no_grad()
    def step(self, closure: Callable[[], float] | None = None) -> float | None:  # type: ignore[override]
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                grad = p.grad
                if group["weight_decay"]:
                    grad = grad.add(p, alpha=group["weight_decay"])
                scaled_lr = group["lr"] * self._trust_ratio(p, grad, group)
                state = self.state[p]
                if "momentum_buffer" not in state:
                    state["momentum_buffer"] = torch.zeros_like(p)
                velocity = state["momentum_buffer"]
                velocity.mul_(group["momentum"]).add_(grad, alpha=scaled_lr)
                if group["nesterov"]:
                    p.sub_(velocity * group["momentum"] + grad * scaled_lr)
                else:
                    p.sub_(velocity)
        return loss

    @staticmethod
    def _trust_ratio(p: torch.Tensor, grad: torch.Tensor, group: dict[str, Any]) -> float:
        if not group["lars_adapt"]:
            return 1.0
        weight_norm, grad_norm = float(p.norm()), float(grad.norm())
        if weight_norm > 0 and grad_norm > 0:
            return group["eta"] * weight_norm / grad_norm
        return 1.0


def bias_and_norm_parameters(module: nn.Module) -> set[int]:
    """ids of the biases and of every normalisation layer's parameters in ``module``."""
    exempt = {id(p) for name, p in module.named_parameters() if name.split(".")[-1]
              .startswith("bias")}
    for child in module.modules():
        if isinstance(child, NORMS):
            exempt.update(id(p) for p in child.parameters(recurse=False))
    return exempt


def parameter_groups(method: nn.Module, optimizer: str, decay_bias_and_norm: bool
                     ) -> list[dict[str, Any]]:
    """The method's groups (or one group of every trainable parameter), split when biases and
    normalisation weights are treated apart."""
    given = getattr(method, "param_groups", None)
    groups = given() if callable(given) else [{"params": list(method.parameters())}]
    groups = [{**group, "params": [p for p in group["params"] if p.requires_grad]}
              for group in groups]
    if decay_bias_and_norm and optimizer != "lars":
        return groups
    exempt = bias_and_norm_parameters(method)
    split = []
    for group in groups:
        plain = [p for p in group["params"] if id(p) not in exempt]
        special = [p for p in group["params"] if id(p) in exempt]
        split.append({**group, "params": plain})
        extra: dict[str, Any] = {} if decay_bias_and_norm else {"weight_decay": 0.0}
        if optimizer == "lars":
            extra["lars_adapt"] = False
        split.append({**group, "params": special, **extra})
    return [group for group in split if group["params"]]


def make_optimizer(method: nn.Module, train: Any) -> torch.optim.Optimizer:
    """The optimiser ``train`` (a config's train section) asks for, over the method's
    trainable parameters."""
    groups = parameter_groups(method, train.optimizer, train.decay_bias_and_norm)
    if train.optimizer == "sgd":
        return torch.optim.SGD(groups, lr=train.lr, momentum=train.momentum,
                               weight_decay=train.weight_decay, nesterov=train.nesterov)
    if train.optimizer in ("adam", "adamw"):
        kind = torch.optim.Adam if train.optimizer == "adam" else torch.optim.AdamW
        return kind(groups, lr=train.lr, betas=tuple(train.adam_betas),
                    weight_decay=train.weight_decay)
    return LARS(groups, lr=train.lr, momentum=train.momentum, weight_decay=train.weight_decay,
                eta=train.lars_eta, nesterov=train.nesterov)
