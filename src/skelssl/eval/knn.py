"""kNN classification by exact cosine similarity, chunked over the test set."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from skelssl.errors import EvalError
from skelssl.eval.precision import probe_dtype

SIMILARITY_BYTES = 1 << 27  # one block of test × train similarities: 128 MiB


def knn_predict(train: torch.Tensor, train_labels: torch.Tensor, test: torch.Tensor, k: int,
                num_classes: int, temperature: float = 0.1, chunk: int | None = None
                ) -> torch.Tensor:
    """Predicted labels of ``test`` from its ``k`` most cosine-similar training features.

    k = 1 takes the nearest neighbour's label; k > 1 votes with weights exp(sim/T). Similarities
    are computed in float64 (as the linear probe) so that near-ties resolve the same way on any
    number of threads, ``chunk`` test rows at a time (default: as many as fit in
    ``SIMILARITY_BYTES``, so memory stays bounded at any training-set size).
    """
    if k < 1:
        raise EvalError(f"k must be at least 1, got {k}")
    train = F.normalize(train.to(probe_dtype(train.device)), dim=1)
    test = F.normalize(test.to(train), dim=1)
    k = min(k, len(train))
    if chunk is None:
        chunk = max(1, SIMILARITY_BYTES // (max(len(train), 1) * train.element_size()))
    predictions = []
    for part in test.split(chunk):
        similarity, neighbour = (part @ train.t()).topk(k, dim=1)
        labels = train_labels[neighbour]
        if k == 1:
            predictions.append(labels[:, 0])
            continue
        votes = torch.zeros(len(part), num_classes, dtype=part.dtype, device=part.device)
        votes.scatter_add_(1, labels, (similarity / temperature).exp())
        predictions.append(votes.argmax(dim=1))
    return torch.cat(predictions)

