"""SkeletonCLR pretraining throughput at NTU-60 shape, and the overhead around the model.

full step    = what `skelssl pretrain` does per batch: read the memory-mapped prepared data
               (DataLoader workers), preprocess on the device (centre, view alignment, resize
               to 50 frames), shear + temporal crop, stream, query/key encoders, InfoNCE,
               queue update, backward, SGD step.
compute step = the same method step on two views already augmented and on the device.
overhead     = time per full step ÷ time per compute step (target ≤ 1.15).

Writes docs/results/throughput.{json,md}. Run from the repository root:

    python benchmarks/throughput.py            # CPU here; on a GPU machine it uses the GPU
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import torch
from results import provenance, write_results

from skelssl.config import load_config
from skelssl.data.dataset import PreparedDataset
from skelssl.data.loader import BatchReader, epoch_batches, loader_workers
from skelssl.data.prepare import PrepareOptions, prepare
from skelssl.engine.assembly import build_run_method, preprocess_for
from skelssl.engine.distributed import pick_device
from skelssl.engine.optim import make_optimizer
from skelssl.engine.trainer import pretrain


def config_for(data: Path, batch: int, workers: int | None, device: str) -> dict:
    return {"method": {"name": "skeletonclr"},  # paper settings: queue 32768, m 0.999
            "encoder": {"name": "stgcn", "hidden_channels": 16, "feature_dim": 256},
            "data": {"path": str(data), "benchmark": "xsub", "persons": 2, "frames": 50,
                     "center": "frame", "align_view": True, "workers": workers},
            "train": {"epochs": 2, "batch_size": batch, "device": device}, "seed": 0}


def full_step_rate(config, run_dir: Path) -> tuple[float, float]:
    """Samples/s of the engine's second epoch (the first warms up), and that epoch's steps."""
    history = pretrain(config, run_dir, progress=False)
    return history[-1]["samples_per_s"], history[-1]["epoch_time_s"]


def compute_step_rate(config, steps: int) -> float:
    """Samples/s of the method step alone, on views prepared beforehand on the device."""
    data = PreparedDataset.open(config.data.path)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    torch.manual_seed(0)
    method = build_run_method(config, data).to(device).train()
    optimizer = make_optimizer(method, config.train)
    preprocess = preprocess_for(config.data, data.layout)
    generator = torch.Generator(device=device).manual_seed(0)
    reader = BatchReader(data, [])
    index = data.indices("xsub", "train")
    views = []
    for batch in epoch_batches(index, config.train.batch_size, 0, 0)[:steps]:
        x, lengths, _ = reader.read(batch)
        x, _ = preprocess(x.to(device), lengths.to(device))
        views.append((method.augment(x, generator), method.augment(x, generator)))
    dtype = torch.bfloat16 if device.type == "cuda" and config.train.amp else None

    def step(view_q, view_k):
        with torch.autocast(device.type, dtype=dtype or torch.float32, enabled=dtype is not None):
            loss = method.contrast(view_q, view_k)["loss"]
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    step(*views[0])  # warm-up
    if device.type == "cuda":
        torch.cuda.synchronize()
    started = time.perf_counter()
    for view_q, view_k in views:
        step(view_q, view_k)
    if device.type == "cuda":
        torch.cuda.synchronize()
    return len(views) * config.train.batch_size / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--per-class", type=int, default=80,
                        help="synthetic samples per class (16 classes, ntu25, 2 persons)")
    parser.add_argument("--workers", type=int, default=None,
                        help="loader processes (default: the engine's choice, none on CPU)")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--out", type=Path, default=Path("docs/results"))
    args = parser.parse_args()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        data, _ = prepare("synthetic", Path(tmp) / "data",
                          PrepareOptions(per_class=args.per_class, seed=0))
        config = load_config(config_for(data, args.batch, args.workers, args.device))
        workers = loader_workers(args.workers, pick_device(args.device))
        full, epoch_time = full_step_rate(config, Path(tmp) / "run")
        steps = len(epoch_batches(PreparedDataset.open(data).indices("xsub", "train"),
                                  args.batch, 0, 0))
        compute = compute_step_rate(config, steps)
    wall = round(time.perf_counter() - started, 1)
    common = {**provenance(), "method": "skeletonclr", "dataset": "synthetic (NTU-60 shape)",
              "split": "xsub/train", "protocol": "pretrain", "seeds": [0], "epoch": None,
              "paper": None, "wall_time_s": wall}
    overhead = compute / full
    rows = [
        {**common, "variant": "full step (engine)", "metric": "samples_per_s",
         "mean": round(full, 1), "std": None, "values": None},
        {**common, "variant": "compute step (pre-augmented views)", "metric": "samples_per_s",
         "mean": round(compute, 1), "std": None, "values": None},
        {**common, "variant": "full ÷ compute", "metric": "overhead_ratio",
         "mean": round(overhead, 3), "std": None, "values": None},
    ]
    c = common
    markdown = [
        "# Pretraining throughput",
        "",
        f"Command: `{c['command']}` · commit `{c['commit']}` · machine: {c['machine']} · "
        f"wall time {wall} s · seed 0.",
        "",
        f"SkeletonCLR with the paper's model and settings (ST-GCN 1/4 width, feature 256, queue "
        f"32768, batch {args.batch}) on inputs of NTU-60 shape (T = 50 after resizing, V = 25, "
        f"M = 2), read from a prepared synthetic dataset on disk ({steps} steps per epoch, "
        f"loader processes: {workers}). The full step is the engine's second epoch "
        f"({epoch_time:.0f} s); the compute step runs the method on the same number of "
        "batches whose two views were augmented beforehand and already sit on the device.",
        "",
        "| step | samples/s |",
        "|---|---|",
        f"| full (read + preprocess + augment + streams + model + queue + SGD) | {full:.1f} |",
        f"| compute only (model + loss + queue + SGD on ready views) | {compute:.1f} |",
        f"| **overhead ratio** (target ≤ 1.15) | **{overhead:.3f}** |",
    ]
    write_results(args.out, "throughput", rows, markdown)
    print("\n".join(markdown))


if __name__ == "__main__":
    main()
