"""Action retrieval (ISC's Table 3): each test sequence queries the training set by cosine
similarity of frozen features; a retrieved sequence is relevant when it has the query's class.

Reported: top-1 (the nearest training sequence's class is right: 1-NN accuracy), recall@k (a
relevant sequence among the k nearest) and mAP (the mean over queries of the average precision
of the full ranking of the training set).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from skelssl.eval.precision import probe_dtype


def retrieval_scores(train: torch.Tensor, train_labels: torch.Tensor, test: torch.Tensor,
                     test_labels: torch.Tensor, ks: tuple[int, ...] = (1, 5, 10),
                     chunk: int = 512) -> dict[str, float]:
    """Top-1, recall@k for each k and mAP, in %, of ``test`` queries against ``train``."""
    ks = tuple(sorted({1, *ks}))
    train = F.normalize(train.to(probe_dtype(train.device)), dim=1)
    test = F.normalize(test.to(train), dim=1)
    train_labels, test_labels = train_labels.to(train.device), test_labels.to(train.device)
    hits = {k: 0.0 for k in ks}
    precision_sum = 0.0
    for part, labels in zip(test.split(chunk), test_labels.split(chunk), strict=True):
        order = (part @ train.t()).argsort(dim=1, descending=True, stable=True)
        relevant = (train_labels[order] == labels[:, None]).to(train.dtype)  # (Q, N) ranked
        for k in ks:
            hits[k] += float(relevant[:, :k].amax(dim=1).sum())
        ranks = torch.arange(1, relevant.shape[1] + 1, device=train.device, dtype=train.dtype)
        precision_at = relevant.cumsum(dim=1) / ranks
        count = relevant.sum(dim=1)
        average = (precision_at * relevant).sum(dim=1) / count.clamp(min=1)
        precision_sum += float(average.sum())
    queries = len(test)
    scores = {f"recall@{k}": 100.0 * hits[k] / queries for k in ks}
    scores["top1"] = scores["recall@1"]
    scores["map"] = 100.0 * precision_sum / queries
    return scores
