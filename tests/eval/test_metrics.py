"""Top-1, confusion matrix and per-class top-1 against hand-counted cases."""

import numpy as np
import pytest
import torch

from skelssl.eval.metrics import confusion_matrix, per_class_top1, top1

LABELS = torch.tensor([0, 0, 1, 2, 2, 2])
PREDICTIONS = torch.tensor([0, 1, 1, 2, 0, 2])


def test_confusion_matrix_counts_rows_as_true_classes():
    matrix = confusion_matrix(LABELS, PREDICTIONS, 4)
    expected = np.array([[1, 1, 0, 0],
                         [0, 1, 0, 0],
                         [1, 0, 2, 0],
                         [0, 0, 0, 0]])
    np.testing.assert_array_equal(matrix, expected)
    assert np.trace(matrix) / matrix.sum() * 100 == pytest.approx(top1(PREDICTIONS, LABELS))


def test_per_class_top1_and_absent_classes():
    scores = per_class_top1(confusion_matrix(LABELS, PREDICTIONS, 4), ["a", "b", "c", "d"])
    assert scores == {"a": 50.0, "b": 100.0, "c": pytest.approx(200 / 3), "d": None}


def test_predictions_and_labels_must_pair_up():
    with pytest.raises(ValueError, match="5 predictions for 6 labels"):
        confusion_matrix(LABELS, PREDICTIONS[:5], 3)
