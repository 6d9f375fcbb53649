import math

import pytest

from skelssl.config import TrainConfig
from skelssl.engine.schedule import learning_rate


def test_step_schedule_multiplies_at_each_milestone():
    config = TrainConfig(lr=0.1, schedule="step", milestones=[250], gamma=0.1, epochs=300)
    assert learning_rate(config, 0) == 0.1
    assert learning_rate(config, 249.99) == 0.1
    assert learning_rate(config, 250) == pytest.approx(0.01)  # epoch 251 (1-based)
    crrl = TrainConfig(lr=0.04, milestones=[20, 50], gamma=0.5, epochs=60)
    assert [learning_rate(crrl, e) for e in (19, 20, 49, 50)] == pytest.approx(
        [0.04, 0.02, 0.02, 0.01])


def test_cosine_with_warmup():
    config = TrainConfig(lr=1.0, schedule="cosine", warmup_epochs=2, epochs=12)
    assert learning_rate(config, 1.0) == pytest.approx(0.5)  # linear warm-up
    assert learning_rate(config, 2.0) == pytest.approx(1.0)
    assert learning_rate(config, 7.0) == pytest.approx(0.5 * (1 + math.cos(math.pi / 2)))
    assert learning_rate(config, 12.0) == pytest.approx(0.0, abs=1e-12)


def test_constant():
    assert learning_rate(TrainConfig(lr=0.3, schedule="constant"), 299) == 0.3
