"""Linear probe: a linear classifier on frozen features, with the papers' presets
(docs/training.md).

Features come from a function of sample positions, so the same loop trains on cached features
(the default: identical result, far faster) or re-runs the frozen encoder on every batch.

Every preset also exists with the suffix ``-std`` (``crossclr-std``): the features are first
standardised per dimension with the training split's mean and standard deviation (BatchNorm
without affine parameters, statistics frozen). The classifier can express exactly the same
functions; only SGD's conditioning changes. ReLU-pooled features share a large common offset,
and on small training sets (NW-UCLA, the demo) the papers' few hundred SGD steps stop far from
the optimum on raw features; standardised, the same schedule converges.

The classifier trains in float64 (float32 on Apple's MPS, which has no float64): in float32
the thousands of SGD steps amplify the summation-order differences of matrix products run on
different numbers of CPU threads into accuracy differences of several points, so the same
cached features gave different results in different processes. In float64 they do not.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace

import torch
import torch.nn.functional as F
from torch import nn
from tqdm import tqdm

from skelssl.errors import EvalError
from skelssl.eval.metrics import top1
from skelssl.eval.precision import probe_dtype


@dataclass(frozen=True)
class LinearPreset:
    """SGD settings of a linear protocol; lr × gamma at each milestone epoch."""

    lr: float
    batch_size: int
    epochs: int
    milestones: tuple[int, ...]
    gamma: float
    momentum: float = 0.9
    weight_decay: float = 0.0
    nesterov: bool = False
    standardize: bool = False  # per-dimension (x − mean) / std with training-split statistics
    crops: bool = False  # train on random crop-resizes, test on centre crops (live encoder)


LINEAR_PRESETS = {
    # CrosSCLR / AimCLR: lr 3.0, batch 128, 100 epochs, ×0.1 at 80.
    "crossclr": LinearPreset(lr=3.0, batch_size=128, epochs=100, milestones=(80,), gamma=0.1),
    # CRRL: Nesterov, lr 0.1, batch 16, 85 epochs, ×0.5 at 15, 35, 50, 66, 75.
    "crrl": LinearPreset(lr=0.1, batch_size=16, epochs=85, milestones=(15, 35, 50, 66, 75),
                         gamma=0.5, nesterov=True),
    # ISC: lr 0.1, batch 64, 80 epochs, ×0.1 at 50 and 70; trained on crop-resizes of
    # U[0.5, 1] of each sequence, tested on its centre 95 % (features recomputed every batch).
    "isc": LinearPreset(lr=0.1, batch_size=64, epochs=80, milestones=(50, 70), gamma=0.1,
                        crops=True),
}
STANDARDIZED = "-std"  # preset suffix: standardised features
FeatureFn = Callable[[torch.Tensor], torch.Tensor]


def get_preset(name: str) -> LinearPreset:
    """The preset called ``name``: a paper's protocol, optionally with the ``-std`` suffix."""
    base = name.removesuffix(STANDARDIZED)
    if base not in LINEAR_PRESETS:
        raise EvalError(f"unknown linear preset {name!r}; expected one of "
                        f"{sorted(LINEAR_PRESETS)}, optionally followed by {STANDARDIZED!r} "
                        "(features standardised with the training split's statistics)")
    preset = LINEAR_PRESETS[base]
    return replace(preset, standardize=True) if name != base else preset


def standardizer(features: FeatureFn, count: int, chunk: int
                 ) -> Callable[[FeatureFn], FeatureFn]:
    """A wrapper that standardises any feature function per dimension by the mean and standard
    deviation (population, 1e-5 added to the variance, as BatchNorm) of ``features`` over the
    ``count`` training samples, computed in the dtype of ``features``."""
    sums: list[torch.Tensor] = []  # running Σx and Σx² over the chunks, in order
    for positions in torch.arange(count).split(chunk):
        with torch.no_grad():
            x = features(positions)
        chunk_sums = [x.sum(0), x.square().sum(0)]
        sums = [a + b for a, b in zip(sums, chunk_sums, strict=True)] if sums else chunk_sums
    total, total_sq = sums
    mean = total / count
    scale = ((total_sq / count - mean.square()).clamp_min(0) + 1e-5).rsqrt()

    def wrap(fn: FeatureFn) -> FeatureFn:
        return lambda positions: (fn(positions).to(mean) - mean) * scale

    return wrap


def train_linear(train_features: FeatureFn, train_labels: torch.Tensor,
                 test_features: FeatureFn, test_labels: torch.Tensor, feature_dim: int,
                 num_classes: int, preset: LinearPreset, seed: int = 0,
                 device: torch.device | str = "cpu", desc: str | None = None) -> dict:
    """Train ``Linear(feature_dim, num_classes)`` and test it after every epoch.

    ``*_features(positions)`` returns the features of those sample positions (on ``device``).
    Returns final-epoch accuracy, the per-epoch curve, the best test epoch (for reference
    only), the final predictions and the final test logits (a tensor, for ensembles).
    """
    dtype = probe_dtype(device)
    train_features, test_features = (_cast(fn, dtype) for fn in (train_features, test_features))
    if preset.standardize:
        standardize = standardizer(train_features, len(train_labels), preset.batch_size * 4)
        train_features, test_features = standardize(train_features), standardize(test_features)
    generator = torch.Generator().manual_seed(seed)
    classifier = nn.Linear(feature_dim, num_classes, dtype=dtype)
    with torch.no_grad():
        classifier.weight.normal_(0.0, 0.01, generator=generator)  # on the CPU: any device
        classifier.bias.zero_()
    classifier.to(device)
    optimizer = torch.optim.SGD(classifier.parameters(), lr=preset.lr,
                                momentum=preset.momentum, weight_decay=preset.weight_decay,
                                nesterov=preset.nesterov)
    train_labels, test_labels = train_labels.to(device), test_labels.to(device)
    test_positions = torch.arange(len(test_labels))
    curve, losses = [], []
    started = time.perf_counter()
    for epoch in tqdm(range(preset.epochs), desc=desc, disable=desc is None, leave=False):
        for group in optimizer.param_groups:
            group["lr"] = preset.lr * preset.gamma ** sum(epoch >= m for m in preset.milestones)
        classifier.train()
        total = 0.0
        for positions in torch.randperm(len(train_labels), generator=generator).split(
                preset.batch_size):
            loss = F.cross_entropy(classifier(train_features(positions)),
                                   train_labels[positions.to(device)])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            total += loss.item() * len(positions)
        losses.append(total / len(train_labels))
        logits = predict_logits(classifier, test_features, test_positions,
                                preset.batch_size * 4)
        curve.append(top1(logits.argmax(dim=1), test_labels))
    best = max(range(len(curve)), key=curve.__getitem__)
    return {"top1": curve[-1], "epoch": "final", "curve": curve, "train_loss": losses,
            "best_test_epoch": {"epoch": best + 1, "top1": curve[best]},
            "predictions": logits.argmax(dim=1).cpu().tolist(), "logits": logits.cpu(),
            "settings": asdict(preset), "probe_time_s": time.perf_counter() - started}


def _cast(features: FeatureFn, dtype: torch.dtype) -> FeatureFn:
    return lambda positions: features(positions).to(dtype)


@torch.no_grad()
def predict_logits(classifier: nn.Module, features: FeatureFn, positions: torch.Tensor,
                   chunk: int) -> torch.Tensor:
    """Class scores (N, classes) of the samples at ``positions``, in chunks."""
    classifier.eval()
    return torch.cat([classifier(features(part)).float() for part in positions.split(chunk)])
