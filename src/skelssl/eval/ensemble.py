"""Multi-stream ensembles: a weighted sum of per-stream linear-probe logits (CrosSCLR's
fusion, docs/training.md).

The streams may come from one multi-stream run (CrosSCLR) or from several single-stream runs
(independently trained SkeletonCLRs); every stream is probed with the same preset and seed on
the same test split, then each subset of two or more streams is fused.
"""

from __future__ import annotations

import functools
import itertools
import operator
import time

import torch

from skelssl.errors import EvalError
from skelssl.eval.metrics import top1
from skelssl.eval.protocol import LoadedRun, linear_probe, split_labels

# CrosSCLR's stream weights; ISC's representations (Table 10) are summed with equal weights
DEFAULT_WEIGHTS = {"joint": 0.6, "motion": 0.4, "bone": 0.6,
                   "sequence": 1.0, "graph": 1.0, "image": 1.0}


def fuse_logits(logits: dict[str, torch.Tensor], weights: dict[str, float]) -> torch.Tensor:
    """Σ_s weights[s] · logits[s] over the given streams."""
    missing = [s for s in logits if s not in weights]
    if missing:
        raise EvalError(f"no ensemble weight for stream {missing[0]!r}; give one with "
                        f"--weight {missing[0]}=W")
    return functools.reduce(operator.add, [weights[s] * scores for s, scores in logits.items()])


def stream_members(runs: list[LoadedRun]) -> dict[str, LoadedRun]:
    """Stream name → the run holding it; refuses repeated streams and differing test sets."""
    members: dict[str, LoadedRun] = {}
    for run in runs:
        for stream in run.encoders:
            if stream in members:
                raise EvalError(f"stream {stream!r} is in both {members[stream].run_dir} and "
                                f"{run.run_dir}; an ensemble takes each stream once")
            members[stream] = run
    first = runs[0]
    reference = split_labels(first, first.config.data.test_split)
    for run in runs[1:]:
        labels = split_labels(run, run.config.data.test_split)
        if labels.shape != reference.shape or not torch.equal(labels, reference):
            raise EvalError(f"{run.run_dir} is tested on other samples than "
                            f"{first.run_dir}: an ensemble needs one test set")
    return members


def ensemble_eval(runs: list[LoadedRun], preset: str, weights: dict[str, float] | None = None,
                  seed: int = 0, cache: bool = True, progress: bool = True) -> dict:
    """Linear probe per stream, then the fused top-1 of every subset of ≥ 2 streams.

    ``probes`` in the result holds each stream's own linear result (as ``linear_probe`` gives
    it, without logits), to be written to its run with ``write_result``.
    """
    weights = {**DEFAULT_WEIGHTS, **(weights or {})}
    members = stream_members(runs)
    started = time.perf_counter()
    logits, probes = {}, {}
    for stream, run in members.items():
        probes[stream] = linear_probe(run, stream, preset, seed, cache, progress)
        logits[stream] = probes[stream].pop("logits")
    labels = split_labels(runs[0], runs[0].config.data.test_split)
    fused, predictions = {}, {}
    for size in range(2, len(logits) + 1):
        for subset in itertools.combinations(logits, size):
            scores = fuse_logits({s: logits[s] for s in subset}, weights)
            predictions["+".join(subset)] = scores.argmax(dim=1).tolist()
            fused["+".join(subset)] = top1(scores.argmax(dim=1), labels)
    used = {s: weights[s] for s in logits}
    first = runs[0].config.data
    return {"protocol": "ensemble", "preset": preset, "seed": seed, "weights": used,
            "runs": {s: str(run.run_dir) for s, run in members.items()},
            "streams": {s: probe["top1"] for s, probe in probes.items()}, "ensembles": fused,
            "predictions": predictions, "dataset": str(first.path),
            "benchmark": first.benchmark, "test_split": first.test_split,
            "epoch": "final", "probes": probes, "wall_time_s": time.perf_counter() - started}
