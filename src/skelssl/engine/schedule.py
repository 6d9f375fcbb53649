"""Learning-rate schedules as pure functions of training progress (so resume needs no state)."""

from __future__ import annotations

import math

from skelssl.config import TrainConfig


def learning_rate(config: TrainConfig, epoch: float) -> float:
    """The lr at fractional ``epoch`` (0-based: epoch 2.5 = halfway through the third epoch).

    Linear warm-up over ``warmup_epochs``; then ``step`` multiplies by ``gamma`` at each
    milestone reached (milestone 250 → epochs 251.. run at lr·gamma), ``cosine`` decays to 0
    at ``epochs``, ``constant`` keeps lr.
    """
    base = config.lr
    if config.warmup_epochs > 0 and epoch < config.warmup_epochs:
        return base * (epoch + 1e-12) / config.warmup_epochs
    if config.schedule == "step":
        return base * config.gamma ** sum(epoch >= m for m in config.milestones)
    if config.schedule == "cosine":
        span = max(config.epochs - config.warmup_epochs, 1e-12)
        done = min(max(epoch - config.warmup_epochs, 0.0) / span, 1.0)
        return base * 0.5 * (1.0 + math.cos(math.pi * done))
    return base
