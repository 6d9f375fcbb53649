"""Unsupervised action segmentation (ActCLR's Table 6): a frozen encoder, dense per-frame
features on untrimmed sequences, a linear per-frame classifier, frame metrics.

Windows of ``window`` frames slide over each sequence with ``stride`` (the last one ends at the
last frame); each window is encoded as a clip, and a frame's feature is the mean of the
features of the windows that cover it. The classifier (the run's linear preset) trains on the
frames of the training sequences (every ``frame_step``-th) and labels every frame of the test
sequences. Metrics over all test frames: ACC (frame accuracy), MACC (mean of per-class
accuracies), mIoU (mean of per-class IoU) and FWIoU (IoU weighted by each class's share of the
true frames), over the classes present in the truth or the predictions.
"""

from __future__ import annotations

import time

import numpy as np
import torch
from tqdm import tqdm

from skelssl.data.dataset import PreparedDataset
from skelssl.errors import EvalError
from skelssl.eval.features import encode
from skelssl.eval.linear import LinearPreset, train_linear
from skelssl.models.stream_encoder import StreamEncoder
from skelssl.transforms.preprocess import Preprocess


def window_starts(length: int, window: int, stride: int) -> np.ndarray:
    """Start frames of windows that cover ``0 .. length − 1``; the last one ends at the end."""
    if length <= window:
        return np.zeros(1, dtype=np.int64)
    starts = np.arange(0, length - window + 1, stride)
    if starts[-1] != length - window:
        starts = np.append(starts, length - window)
    return starts


@torch.no_grad()
def frame_features(encoder: StreamEncoder, joints: np.ndarray, length: int, window: int,
                   stride: int, preprocess: Preprocess, device: torch.device,
                   batch_size: int = 256) -> torch.Tensor:
    """(length, D) features of one sequence ``joints`` (C, T, V, M): each frame gets the mean
    feature of the windows over it."""
    starts = window_starts(length, window, stride)
    clips = np.stack([np.asarray(joints[:, s:s + window]) for s in starts]) if length >= window \
        else np.asarray(joints[None, :, :window])
    sizes = torch.as_tensor(np.minimum(window, length - starts))
    features = torch.cat([encode(encoder, torch.as_tensor(clips[i:i + batch_size]),
                                 sizes[i:i + batch_size], preprocess, device).cpu()
                          for i in range(0, len(clips), batch_size)])
    frames = torch.arange(length)
    starts_t = torch.as_tensor(starts)
    covers = ((frames >= starts_t[:, None]) & (frames < (starts_t + sizes)[:, None])).float()
    return (covers.T @ features) / covers.sum(dim=0)[:, None]  # (windows, T) → per frame


def runs(labels: np.ndarray) -> list[list[int]]:
    """``[class, start, end]`` of each run of equal frame labels (end exclusive)."""
    labels = np.asarray(labels)
    if labels.size == 0:
        return []
    cuts = np.flatnonzero(np.diff(labels)) + 1
    starts, ends = np.r_[0, cuts], np.r_[cuts, labels.size]
    return [[int(labels[a]), int(a), int(b)] for a, b in zip(starts, ends, strict=True)]


def segmentation_scores(truth: np.ndarray, predicted: np.ndarray, num_classes: int
                        ) -> dict[str, float]:
    """ACC, MACC, mIoU and FWIoU (percent) of per-frame class predictions."""
    truth, predicted = np.asarray(truth), np.asarray(predicted)
    matrix = np.bincount(truth * num_classes + predicted,
                         minlength=num_classes ** 2).reshape(num_classes, num_classes)
    hits = np.diag(matrix).astype(float)
    true_count, predicted_count = matrix.sum(axis=1), matrix.sum(axis=0)
    union = true_count + predicted_count - hits
    present = union > 0
    iou = hits[present] / union[present]
    in_truth = true_count > 0
    return {"acc": 100.0 * hits.sum() / len(truth),
            "macc": 100.0 * float(np.mean(hits[in_truth] / true_count[in_truth])),
            "miou": 100.0 * float(iou.mean()),
            "fwiou": 100.0 * float((true_count[present] / len(truth) * iou).sum())}


def segment(data: PreparedDataset, encoder: StreamEncoder, preprocess: Preprocess,
            train: np.ndarray, test: np.ndarray, preset: LinearPreset, device: torch.device,
            window: int = 50, stride: int = 10, frame_step: int = 5, seed: int = 0,
            batch_size: int = 256) -> dict:
    """Frame features of the training and test sequences, the per-frame classifier, and the
    scores; ``sequences`` holds each test sequence's true and predicted segments (:func:`runs`)."""
    if data.frame_labels is None:
        raise EvalError(f"{data.path}: no per-frame labels; prepare the untrimmed sequences "
                        "(e.g. `skelssl prepare pku-mmd ... --untrimmed`)")
    frame_labels = data.frame_labels
    if window < 1 or stride < 1 or frame_step < 1:
        raise EvalError("window, stride and frame step must be at least 1")
    started = time.perf_counter()

    def features_of(index: np.ndarray, step: int, desc: str
                    ) -> tuple[torch.Tensor, torch.Tensor, list[int]]:
        feats, labels, sizes = [], [], []
        for i in tqdm(index.tolist(), desc=desc, disable=None, leave=False):
            length = int(data.lengths[i])
            f = frame_features(encoder, data.joints[i], length, window, stride, preprocess,
                               device, batch_size)[::step]
            feats.append(f)
            labels.append(torch.from_numpy(np.array(frame_labels[i, :length:step])))
            sizes.append(len(f))
        return torch.cat(feats), torch.cat(labels), sizes

    train_x, train_y, _ = features_of(train, frame_step, "frames/train")
    test_x, test_y, sizes = features_of(test, 1, "frames/test")
    if (train_y < 0).any() or (test_y < 0).any():
        raise EvalError(f"{data.path}: frame labels below 0 inside a sequence (damaged)")
    result = train_linear(lambda p: train_x[p].to(device), train_y,
                          lambda p: test_x[p].to(device), test_y, train_x.shape[1],
                          data.num_classes, preset, seed, device, desc="frame classifier")
    predicted = np.asarray(result["predictions"])
    scores = segmentation_scores(test_y.numpy(), predicted, data.num_classes)
    bounds = np.cumsum([0, *sizes])
    sequences = {data.names[i]: {"truth": runs(test_y[a:b].numpy()),
                                 "predicted": runs(predicted[a:b])}
                 for i, a, b in zip(test.tolist(), bounds[:-1], bounds[1:], strict=True)}
    return {**scores, "window": window, "stride": stride, "frame_step": frame_step,
            "train_frames": len(train_y), "test_frames": len(test_y),
            "settings": result["settings"], "epoch": "final", "sequences": sequences,
            "wall_time_s": time.perf_counter() - started}
