"""The supervised (finetune) method: cross-entropy on the classifier over the stream encoder."""

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from conftest import factory
from skelssl.errors import ConfigError
from skelssl.methods import Batch
from skelssl.methods.supervised import Supervised, SupervisedConfig
from skelssl.skeleton import load_layout


class MeanEncoder(nn.Module):
    """Features = mean of each coordinate over frames, joints and persons (3-d)."""

    feature_dim = 3

    def forward(self, x, lengths=None):
        return x.mean(dim=(2, 3, 4))


def test_loss_is_cross_entropy_of_the_classifier_on_the_stream_features():
    torch.manual_seed(0)
    method = Supervised(SupervisedConfig(num_classes=4, stream="motion"),
                        layout=load_layout("ntu25"), encoders=factory(MeanEncoder))
    x = torch.randn(5, 3, 6, 25, 2)
    labels = torch.tensor([0, 1, 2, 3, 1])
    out = method.training_step(Batch(x, torch.full((5,), 6), labels), epoch=0)
    motion = torch.zeros_like(x)
    motion[:, :, :-1] = x[:, :, 1:] - x[:, :, :-1]
    logits = motion.mean(dim=(2, 3, 4)) @ method.classifier.weight.T + method.classifier.bias
    assert out["loss"].item() == pytest.approx(F.cross_entropy(logits, labels).item(), rel=1e-6)
    expected = (logits.argmax(dim=1) == labels).float().mean().item() * 100
    assert out["train_top1"].item() == pytest.approx(expected)
    out["loss"].backward()
    assert method.classifier.weight.grad is not None


def test_labels_and_classes_are_required():
    layout = load_layout("ntu25")
    with pytest.raises(ConfigError, match="num_classes = 0"):
        Supervised(SupervisedConfig(), layout=layout, encoders=factory(MeanEncoder))
    method = Supervised(SupervisedConfig(num_classes=2), layout=layout,
                        encoders=factory(MeanEncoder))
    with pytest.raises(ValueError, match="needs the batch labels"):
        method.training_step(Batch(torch.zeros(2, 3, 4, 25, 2), torch.full((2,), 4)), 0)
