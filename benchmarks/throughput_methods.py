"""Pretraining throughput of every method, and the overhead of the engine around its step.

full step    = what `skelssl pretrain` does per batch (the engine's second epoch): read the
               memory-mapped data, preprocess on the device, the method's training step
               (its augmentations, streams, encoders, loss, queues), backward, optimiser step.
method step  = the same training step, backward and optimiser step on batches that were read
               and preprocessed beforehand and already sit on the device.
overhead     = full time per sample ÷ method time per sample (target ≤ 1.10): what reading and
               preprocessing add to the method's own work, augmentations included.

An NW-UCLA epoch is a few seconds: one measurement moves by ±5 % with the machine (up to ±15 %
on a 2-core AVX2 CPU), as much as the overhead itself. ``--repeats N`` measures both N times,
alternating, and reports the medians (every value is kept in the JSON).

Writes docs/results/throughput-methods.{json,md} (``--topic`` names another page). From the
repository root:

    python benchmarks/throughput_methods.py configs/skeletonclr/nw-ucla.yaml \\
        configs/aimclr/nw-ucla.yaml ...   # default: every method's NW-UCLA config
"""

from __future__ import annotations

import argparse
import csv
import statistics
import tempfile
import time
from pathlib import Path

import torch
from results import page_arguments, provenance, write_results

from skelssl.config import RunConfig, apply_overrides, load_config, read_yaml
from skelssl.data.dataset import PreparedDataset
from skelssl.data.loader import BatchReader, epoch_batches
from skelssl.engine.assembly import build_run_method, preprocess_for
from skelssl.engine.distributed import pick_device
from skelssl.engine.optim import make_optimizer
from skelssl.engine.pipeline import is_pipeline, run_pipeline, stage_configs
from skelssl.engine.trainer import amp_dtype, pretrain
from skelssl.methods import Batch, TrainingProgress, as_method

CONFIGS = ["configs/skeletonclr/nw-ucla.yaml", "configs/crossclr/nw-ucla.yaml",
           "configs/aimclr/nw-ucla.yaml", "configs/actclr/nw-ucla.yaml",
           "configs/viewclr/nw-ucla.yaml", "configs/isc/nw-ucla.yaml",
           "configs/crrl/nw-ucla-cml.yaml", "configs/crrl/nw-ucla.yaml"]


def full_rate(values: dict, run_dir: Path) -> tuple[float, RunConfig]:
    """Samples/s of the engine's second epoch (the first warms up) and the config measured:
    a pipeline trains every stage for two epochs and is measured at its last stage (ActCLR's
    actionlet stage, CRRL's SER + INF)."""
    if not is_pipeline(values):
        config = load_config(apply_overrides(values, ["train.epochs=2"]))
        return pretrain(config, run_dir, progress=False)[-1]["samples_per_s"], config
    values = apply_overrides(values, [f"stages.{name}.train.epochs=2"
                                      for name in values["stages"]])
    run_pipeline(values, run_dir, progress=False)
    name, config = stage_configs(values, run_dir)[-1]
    with (run_dir / name / "metrics.csv").open() as f:
        return float(list(csv.DictReader(f))[-1]["samples_per_s"]), config


def method_rate(config: RunConfig, steps: int) -> float:
    """Samples/s of the method's training step on ready, preprocessed batches."""
    data = PreparedDataset.open(config.data.path)
    device = pick_device(config.train.device)
    torch.manual_seed(config.seed)
    method = build_run_method(config, data).to(device).train()
    optimizer = make_optimizer(method, config.train)
    preprocess = preprocess_for(config.data, data.layout)
    reader = BatchReader(data, [])
    index = data.indices(config.data.benchmark, config.data.train_split)
    batches = []
    for chosen in epoch_batches(index, config.train.batch_size, config.seed, 1)[:steps]:
        x, lengths, labels = reader.read(chosen)
        x, lengths = preprocess(x.to(device), lengths.to(device))
        batches.append(Batch(x, lengths, labels.to(device)))
    generator = torch.Generator(device=device).manual_seed(0)
    dtype = amp_dtype(config, device)
    epoch = config.train.epochs - 1  # past every method's start epochs (mining, curricula)
    hook = getattr(method, "on_epoch_start", None)
    if hook is not None:
        hook(epoch)

    def step(i: int, batch: Batch) -> None:
        on_step = getattr(method, "on_step_start", None)
        if on_step is not None:
            on_step(TrainingProgress(epoch, i, len(batches), config.train.epochs))
        with torch.autocast(device.type, dtype=dtype or torch.float32,
                            enabled=dtype is not None):  # the engine's precision
            loss = as_method(method).training_step(batch, epoch, generator)["loss"]
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    step(0, batches[0])  # warm-up
    if device.type == "cuda":
        torch.cuda.synchronize()
    started = time.perf_counter()
    for i, batch in enumerate(batches):
        step(i, batch)
    if device.type == "cuda":
        torch.cuda.synchronize()
    return len(batches) * config.train.batch_size / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("configs", nargs="*", default=CONFIGS)
    parser.add_argument("--data", default=None, help="prepared dataset (default: each "
                                                     "config's data.path)")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--repeats", type=int, default=3,
                        help="measurements of each, alternating; the medians are reported")
    page_arguments(parser, "throughput-methods")
    args = parser.parse_args()
    started = time.perf_counter()
    rows = []
    for path in args.configs:
        values = read_yaml(Path(path))
        train_keys = [f"stages.{name}.train" for name in values["stages"]] \
            if is_pipeline(values) else ["train"]
        values = apply_overrides(values, [f"{key}.device={args.device}" for key in train_keys]
                                 + ["data.workers=0"]
                                 + ([f"data.path={args.data}"] if args.data else []))
        fulls, computes = [], []
        for _ in range(args.repeats):
            with tempfile.TemporaryDirectory() as tmp:
                full, config = full_rate(values, Path(tmp) / "run")
            data = PreparedDataset.open(config.data.path)
            steps = len(epoch_batches(data.indices(config.data.benchmark, "train"),
                                      config.train.batch_size, 0, 0))
            fulls.append(full)
            computes.append(method_rate(config, steps))
        full, compute = statistics.median(fulls), statistics.median(computes)
        rows.append({**provenance(), "config": path, "method": config.method.name,
                     "encoder": getattr(config.encoder, "name", ""), "dataset": Path(
                         config.data.path).name, "batch": config.train.batch_size,
                     "metric": "samples_per_s", "full": round(full, 1),
                     "method_step": round(compute, 1), "overhead": round(compute / full, 3),
                     "full_values": [round(v, 1) for v in fulls],
                     "method_step_values": [round(v, 1) for v in computes]})
        print(rows[-1]["config"], rows[-1]["full"], rows[-1]["method_step"],
              rows[-1]["overhead"], flush=True)
        write_page(args, rows, round(time.perf_counter() - started, 1))


def write_page(args: argparse.Namespace, rows: list[dict], wall: float) -> None:
    """The page of the configs measured so far (rewritten after each, so that a long
    measurement cut short keeps its rows)."""
    c = rows[0]
    lines = ["# Pretraining throughput of every method", "",
             f"Command: `{c['command']}` · commit `{c['commit']}` · machine: {c['machine']} · "
             f"wall time {wall} s." + (f" {args.note}" if args.note else ""), "",
             "Full step: the engine's second epoch (read + preprocess + the method's step + "
             "backward + optimiser). Method step: the same on batches read and preprocessed "
             "beforehand (augmentations stay in the step: every method augments batched on "
             "the device). Overhead = method step ÷ full step in samples/s (target ≤ 1.10). "
             f"Each is the median of {args.repeats} measurements, alternating.",
             "", "| config | method | encoder | batch | full (samples/s) | method step "
             "(samples/s) | overhead |", "|---|---|---|---|---|---|---|"]
    lines += [f"| `{r['config']}` | {r['method']} | {r['encoder']} | {r['batch']} | "
              f"{r['full']:.1f} | {r['method_step']:.1f} | {r['overhead']:.3f} |" for r in rows]
    for row in rows:
        row["wall_time_s"] = wall
    write_results(args.out, args.topic, rows, lines)


if __name__ == "__main__":
    main()
