"""The collapse monitor's numbers of finished runs, measured afterwards from their last state.

For runs trained before the monitor existed (or to compare runs at their end): rebuilds each
run's method from its ``config.yaml`` and ``last.pt``, then takes training steps without
gradients (train mode, the method's own augmentations, seeded) on ``--samples`` sequences
of the training split drawn at random (seeded), in batches of the config's size. Reports the
mean InfoNCE, embedding spread and mean cosine, and the mean cosine between the query
embeddings of two views of one sequence (how well the encoder aligns a positive pair).
Nothing is written to the runs. Writes docs/results/<topic>.{json,md}. From the repository
root:

    python benchmarks/run_spread.py runs/encoders-nw-ucla/nw-ucla-*-seed0
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import numpy as np
import torch
from results import page_arguments, provenance, write_results

from skelssl.config import load_config
from skelssl.data.dataset import PreparedDataset
from skelssl.engine.assembly import build_run_method, preprocess_for
from skelssl.engine.checkpoint import load_checkpoint
from skelssl.methods.base import Batch

MONITOR = ("loss", "spread", "cosine")


@torch.no_grad()
def measure(run_dir: Path, samples: int, data_path: str | None) -> dict:
    """Mean monitor numbers over batches of the training split, and the positive cosine."""
    config = load_config(run_dir / "config.yaml")
    if data_path is not None:
        config.data.path = data_path
    data = PreparedDataset.open(config.data.path)
    method = build_run_method(config, data)
    method.load_state_dict(load_checkpoint(run_dir / "last.pt")["method"])
    method.train()
    preprocess = preprocess_for(config.data, data.layout)
    index = data.indices(config.data.benchmark, config.data.train_split)
    index = np.random.default_rng(0).permutation(index)[:samples]  # batches mix the classes
    generator = torch.Generator().manual_seed(0)
    numbers: dict[str, list[float]] = {}
    for start in range(0, len(index), config.train.batch_size):
        chosen = index[start:start + config.train.batch_size]
        x, lengths = preprocess(torch.from_numpy(np.array(data.joints[chosen], dtype=np.float32)),
                                torch.from_numpy(np.asarray(data.lengths[chosen])))
        if hasattr(method, "embed_query"):  # single-stream MoCo: a positive pair's agreement
            q1 = method.embed_query(method.augment(x, generator))
            q2 = method.embed_query(method.augment(x, generator))
            numbers.setdefault("positive_cosine", []).append((q1 * q2).sum(1).mean().item())
        out = method.training_step(Batch(x, lengths), config.train.epochs - 1, generator)
        for key in MONITOR:
            if key in out:
                numbers.setdefault(key, []).append(float(out[key]))
    return {"run": str(run_dir), "config": str(run_dir / "config.yaml"),
            "method": config.method.name, "epochs": config.train.epochs,
            **{key: statistics.mean(values) for key, values in numbers.items()}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", type=Path, nargs="+", help="run directories (their last.pt)")
    parser.add_argument("--samples", type=int, default=512)
    parser.add_argument("--data", default=None, help="the prepared dataset, if it moved")
    page_arguments(parser, "run-spread-nw-ucla")
    args = parser.parse_args()
    started = time.perf_counter()
    measured = [measure(run_dir, args.samples, args.data) for run_dir in args.runs]
    common = {**provenance(), "samples": args.samples,
              "wall_time_s": round(time.perf_counter() - started, 1)}
    columns = (*MONITOR, "positive_cosine")
    markdown = [
        "# The collapse monitor at the end of training",
        "",
        f"Command: `{common['command']}` · commit `{common['commit']}` · machine: "
        f"{common['machine']} · wall time {common['wall_time_s']} s. {args.note}",
        "",
        f"Each run's last state, training steps without gradients on {args.samples} "
        "training sequences drawn at random (train mode, the method's augmentations, "
        "seeded). Spread: √d × mean per-dimension standard deviation of the L2-normalised "
        "embeddings (≈ 1 spread evenly over the sphere, 0 collapsed); cosine: mean cosine "
        "between different sequences; positive cosine: between two augmented views of the "
        "same sequence.",
        "",
        "| run | method | " + " | ".join(columns) + " |",
        "|---|---|" + "---|" * len(columns),
        *(f"| `{row['run']}` | {row['method']} | "
          + " | ".join(f"{row[key]:.3f}" if key in row else "–" for key in columns) + " |"
          for row in measured),
    ]
    write_results(args.out, args.topic, [{**common, **row} for row in measured], markdown)


if __name__ == "__main__":
    main()
