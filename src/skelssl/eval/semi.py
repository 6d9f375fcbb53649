"""Semi-supervised evaluation (docs/training.md): the linear protocol trained on class-balanced
labelled fractions of the training split, tested on the whole test split, over several draws
of the labelled samples."""

from __future__ import annotations

import statistics
import time

from tqdm import tqdm

from skelssl.errors import EvalError
from skelssl.eval.protocol import LoadedRun, linear_probe, result_header

FRACTIONS = (0.01, 0.05, 0.1, 0.2)


def semi_supervised(run: LoadedRun, stream: str, preset: str,
                    fractions: tuple[float, ...] = FRACTIONS, draws: int = 3, seed: int = 0,
                    progress: bool = True) -> dict:
    """Final-epoch top-1 of the linear ``preset`` trained on each labelled fraction, once per
    draw (draw d picks the labelled samples with seed d), with mean and sample std."""
    if draws < 1:
        raise EvalError(f"draws must be at least 1, got {draws}")
    started = time.perf_counter()
    jobs = [(fraction, draw) for fraction in fractions for draw in range(draws)]
    probes = [linear_probe(run, stream, preset, seed, progress=False, label_fraction=fraction,
                           draw=draw)
              for fraction, draw in tqdm(jobs, desc=f"semi {stream}", disable=not progress,
                                         leave=False)]
    rows = []
    for fraction in fractions:
        mine = [p for p in probes if p["label_fraction"] == fraction]
        values = [p["top1"] for p in mine]
        rows.append({"label_fraction": fraction, "train_samples": mine[0]["train_samples"],
                     "mean": statistics.mean(values),
                     "std": statistics.stdev(values) if len(values) > 1 else None,
                     "values": values, "final_train_loss": [p["train_loss"][-1] for p in mine]})
    return {**result_header(run, stream, "semi"), "preset": preset, "epoch": "final",
            "draws": list(range(draws)), "fractions": rows, "settings": probes[0]["settings"],
            "seed": seed, "wall_time_s": time.perf_counter() - started}
