"""Classification metrics of a protocol's predictions: top-1, confusion matrix, per-class top-1."""

from __future__ import annotations

import numpy as np
import torch


def top1(predictions: torch.Tensor, labels: torch.Tensor) -> float:
    """Accuracy in percent."""
    return 100.0 * (predictions == labels).float().mean().item()


def confusion_matrix(labels: torch.Tensor, predictions: torch.Tensor,
                     num_classes: int) -> np.ndarray:
    """Counts (classes × classes): row = true class, column = predicted class."""
    labels = torch.as_tensor(labels).long().cpu()
    predictions = torch.as_tensor(predictions).long().cpu()
    if labels.shape != predictions.shape:
        raise ValueError(f"{len(predictions)} predictions for {len(labels)} labels")
    flat = torch.bincount(labels * num_classes + predictions, minlength=num_classes ** 2)
    return flat.reshape(num_classes, num_classes).numpy()


def per_class_top1(matrix: np.ndarray, class_names: list[str]) -> dict[str, float | None]:
    """Accuracy in percent of each true class (None for a class absent from the test set)."""
    totals = matrix.sum(axis=1)
    return {name: (100.0 * float(matrix[i, i]) / float(totals[i]) if totals[i] else None)
            for i, name in enumerate(class_names)}
