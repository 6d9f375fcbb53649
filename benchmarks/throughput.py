"""SkeletonCLR pretraining throughput at NTU-60 shape, beside the official code, and the
overhead around the model.

full step    = what `skelssl pretrain` does per batch: read the memory-mapped prepared data
               (DataLoader workers), preprocess on the device (centre, view alignment, resize
               to 50 frames), shear + temporal crop, stream, query/key encoders, InfoNCE,
               queue update, backward, SGD step.
compute step = the same method step on two views already augmented and on the device.
overhead     = time per full step ÷ time per compute step (target ≤ 1.15).

Each is measured in fp32 and, on a CPU with native bf16 (AMX / AVX512-BF16), with
``train.cpu_amp`` (bf16 autocast). ``--official PYTHON`` also runs the official SkeletonCLR
harness (``../shared/bench/official-skeletonclr``, with a Python that has its dependencies) in
the same invocation, so the ratios compare codes on one machine at one time.

Writes docs/results/throughput.{json,md}. Run from the repository root:

    python benchmarks/throughput.py --official /tmp/official-venv/bin/python
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
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
from skelssl.engine.trainer import amp_dtype, cpu_has_bf16, pretrain

OFFICIAL = Path("../shared/bench/official-skeletonclr/run.sh")


def config_for(data: Path, batch: int, workers: int | None, device: str, cpu_amp: bool
               ) -> dict:
    return {"method": {"name": "skeletonclr"},  # paper settings: queue 32768, m 0.999
            "encoder": {"name": "stgcn", "hidden_channels": 16, "feature_dim": 256},
            "data": {"path": str(data), "benchmark": "xsub", "persons": 2, "frames": 50,
                     "center": "frame", "align_view": True, "workers": workers},
            "train": {"epochs": 2, "batch_size": batch, "device": device,
                      "cpu_amp": cpu_amp}, "seed": 0}


def full_step_rate(config, run_dir: Path) -> tuple[float, float]:
    """Samples/s of the engine's second epoch (the first warms up), and that epoch's steps."""
    history = pretrain(config, run_dir, progress=False)
    return history[-1]["samples_per_s"], history[-1]["epoch_time_s"]


def compute_step_rate(config, steps: int) -> float:
    """Samples/s of the method step alone, on views prepared beforehand on the device."""
    data = PreparedDataset.open(config.data.path)
    device = pick_device(config.train.device)
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
    dtype = amp_dtype(config, device)

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


def official_rates(python: str, samples: int, work: Path) -> dict:
    """The official harness's full (steady state) and pure samples/s on this machine."""
    env = {**os.environ, "PY": python, "WORK": str(work), "N": str(samples)}
    subprocess.run(["bash", str(OFFICIAL)], env=env, check=True)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    return json.loads((work / f"results-{device}.json").read_text())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--per-class", type=int, default=80,
                        help="synthetic samples per class (16 classes, ntu25, 2 persons)")
    parser.add_argument("--workers", type=int, default=None,
                        help="loader processes (default: the engine's choice, none on CPU)")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--official", default=None, metavar="PYTHON",
                        help="run the official harness too, with this Python")
    parser.add_argument("--official-samples", type=int, default=2048,
                        help="samples of the official harness's synthetic data")
    parser.add_argument("--out", type=Path, default=Path("docs/results"))
    args = parser.parse_args()
    started = time.perf_counter()
    device = pick_device(args.device)
    precisions = [False] + ([True] if device.type == "cpu" and cpu_has_bf16() else [])
    measured: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        data, _ = prepare("synthetic", Path(tmp) / "data",
                          PrepareOptions(per_class=args.per_class, seed=0))
        steps = len(epoch_batches(PreparedDataset.open(data).indices("xsub", "train"),
                                  args.batch, 0, 0))
        if args.official:
            official = official_rates(args.official, args.official_samples,
                                      Path(tmp) / "official")
            measured["official full"] = official["full_steady_samples_per_s"]
            measured["official pure"] = official["pure_samples_per_s"]
        for cpu_amp in precisions:
            name = "bf16" if cpu_amp else "fp32"
            config = load_config(config_for(data, args.batch, args.workers, args.device,
                                            cpu_amp))
            measured[f"skelssl full {name}"], _ = full_step_rate(config,
                                                                 Path(tmp) / f"run-{name}")
            measured[f"skelssl compute {name}"] = compute_step_rate(config, steps)
    workers = loader_workers(args.workers, device)
    wall = round(time.perf_counter() - started, 1)
    write_tables(args, measured, steps, workers, wall)


def write_tables(args: argparse.Namespace, measured: dict[str, float], steps: int,
                 workers: int, wall: float) -> None:
    """Rows per measurement and per ratio; the Markdown table."""
    common = {**provenance(), "method": "skeletonclr", "dataset": "synthetic (NTU-60 shape)",
              "split": "xsub/train", "protocol": "pretrain", "seeds": [0], "epoch": None,
              "paper": None, "wall_time_s": wall}
    ratios = {}
    for name in ("fp32", "bf16"):
        if f"skelssl full {name}" in measured:
            ratios[f"overhead {name} (full ÷ compute time)"] = (
                measured[f"skelssl compute {name}"] / measured[f"skelssl full {name}"])
            if "official full" in measured:
                ratios[f"skelssl full {name} ÷ official full"] = (
                    measured[f"skelssl full {name}"] / measured["official full"])
                ratios[f"skelssl compute {name} ÷ official pure"] = (
                    measured[f"skelssl compute {name}"] / measured["official pure"])
    rows = [{**common, "variant": k, "metric": "samples_per_s", "mean": round(v, 2),
             "std": None, "values": None} for k, v in measured.items()]
    rows += [{**common, "variant": k, "metric": "ratio", "mean": round(v, 3), "std": None,
              "values": None} for k, v in ratios.items()]
    c = common
    official = ("" if "official full" in measured else
                " The official code was not run this time (`--official PYTHON`).")
    markdown = [
        "# Pretraining throughput",
        "",
        f"Command: `{c['command']}` · commit `{c['commit']}` · machine: {c['machine']} · "
        f"wall time {wall} s · seed 0.",
        "",
        f"SkeletonCLR with the paper's model and settings (ST-GCN 1/4 width, feature 256, queue "
        f"32768, batch {args.batch}) on inputs of NTU-60 shape (T = 50 after resizing, V = 25, "
        f"M = 2), read from a prepared synthetic dataset on disk ({steps} steps per epoch, "
        f"loader processes: {workers}). The full step is the engine's second epoch; the "
        "compute step runs the method on the same number of batches whose two views were "
        "augmented beforehand and already sit on the device. bf16 = `train.cpu_amp: true` "
        "(bf16 autocast on a CPU with AMX / AVX512-BF16). The official harness "
        f"({OFFICIAL.parent}, {args.official_samples} samples of the same shape) runs in the "
        "same invocation: its full step is their launcher with 4 loader workers in steady "
        "state, its pure step their model step on a batch in memory." + official,
        "",
        "| step | samples/s |",
        "|---|---|",
        *[f"| {k} | {v:.1f} |" for k, v in measured.items()],
        *[f"| **{k}** | **{v:.2f}** |" for k, v in ratios.items()],
    ]
    write_results(args.out, "throughput", rows, markdown)
    print("\n".join(markdown))


if __name__ == "__main__":
    main()
