"""The pretraining loop: one function from a config to a run directory with checkpoints.

Exact resume: every epoch reseeds the global RNG and the augmentation generator from
(seed, epoch, rank), the batch order is a pure function of (seed, epoch), the learning rate a
pure function of progress; ``last.pt`` holds weights, buffers (queues), optimizer and
grad-scaler state and the metric history. A resumed run therefore repeats the epochs an
uninterrupted one would have run, bit for bit on the same machine.
"""

from __future__ import annotations

import contextlib
import math
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
import torch
from torch import nn
from tqdm import tqdm

from skelssl.config import RunConfig, TrainConfig, dump_config, to_dict
from skelssl.data.dataset import PreparedDataset
from skelssl.data.loader import EpochLoader, epoch_batches, loader_workers
from skelssl.engine import distributed
from skelssl.engine.assembly import build_run_method, preprocess_for
from skelssl.engine.checkpoint import load_strict, resume_state, save_atomic
from skelssl.engine.encoder_file import encoder_file_state, load_run_weights
from skelssl.engine.heap import keep_freed_memory
from skelssl.engine.optim import make_optimizer
from skelssl.engine.run_dir import (
    ENCODER_CHECKPOINT,
    LAST_CHECKPOINT,
    PREVIOUS_CHECKPOINT,
    SNAPSHOT_DIR,
    RunLock,
    TensorBoard,
    cpu_has_bf16,
    plot_curves,
    snapshot_file,
    write_metrics,
    write_provenance,
)
from skelssl.engine.schedule import learning_rate
from skelssl.errors import ConfigError, TrainingDiverged
from skelssl.methods import Batch, TrainingProgress, as_method
from skelssl.methods.collapse import SPREAD
from skelssl.transforms.preprocess import Preprocess


class _Step(nn.Module):
    """Routes DDP's forward call to the method's training step."""

    def __init__(self, method: nn.Module) -> None:
        super().__init__()
        self.method = method

    def forward(self, batch: Batch, epoch: int, generator: torch.Generator) -> dict:
        return as_method(self.method).training_step(batch, epoch, generator)


def epoch_seed(seed: int, epoch: int, rank: int) -> int:
    """A 63-bit seed for one process in one epoch."""
    return int(np.random.SeedSequence([seed, epoch, rank]).generate_state(2, np.uint64)[0] >> 1)


def amp_dtype(config: RunConfig, device: torch.device) -> torch.dtype | None:
    """On CUDA with ``amp``: bf16 where the GPU supports it, fp16 otherwise. On CPU with
    ``cpu_amp``: bf16 where the CPU computes it natively. None (fp32) otherwise."""
    if device.type == "cpu" and config.train.cpu_amp:
        if cpu_has_bf16():
            return torch.bfloat16
        print("warning: train.cpu_amp: this CPU has no native bf16 (AMX or AVX512-BF16), "
              "where bf16 would be slower than fp32; training in fp32", file=sys.stderr,
              flush=True)
        return None
    if not config.train.amp or device.type != "cuda":
        return None
    return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16


def start_fresh(method: nn.Module) -> None:
    """Before a fresh run's first epoch: load the weights the method takes from other runs,
    then let it finish its set-up (``on_train_start``)."""
    for wanted in getattr(method, "weights_from_runs", list)():
        load_run_weights(wanted)
    hook = getattr(method, "on_train_start", None)
    if hook is not None:
        hook()


def pretrain(config: RunConfig, run_dir: str | Path, resume: bool = False,
             until_epoch: int | None = None, progress: bool = True) -> list[dict[str, float]]:
    """Pretrain ``config``'s method into ``run_dir``; returns the per-epoch metric history.

    ``resume`` continues from ``run_dir/last.pt`` when it exists. ``until_epoch`` stops after
    that epoch (resume later to go on). Tunes glibc's allocator for the process first
    (``skelssl.engine.heap``; ``SKELSSL_SYSTEM_MALLOC=1`` leaves it alone).
    """
    run_dir = Path(run_dir)
    keep_freed_memory()
    context = distributed.start(config.train.device)
    try:
        with RunLock(run_dir) if context.is_main else contextlib.nullcontext():
            history = _pretrain(config, run_dir, resume, until_epoch, progress, context)
        distributed.barrier(context)  # no process leaves the group while another still works
        return history
    finally:
        distributed.stop(context)


def _pretrain(config: RunConfig, run_dir: Path, resume: bool, until_epoch: int | None,
              progress: bool, context: distributed.Context) -> list[dict[str, float]]:
    device = context.device
    data = PreparedDataset.open(config.data.path)
    train_index = data.subset(config.data.benchmark, config.data.train_split,
                              config.train.label_fraction, config.train.label_draw).index
    if not len(train_index):
        raise ConfigError(f"{config.data.path}: the split {config.data.train_split!r} of "
                          f"benchmark {config.data.benchmark!r} is empty: nothing to train on")
    if len(train_index) < config.train.batch_size:
        raise ConfigError(f"{config.data.path}: {len(train_index)} training samples, fewer than "
                          f"train.batch_size = {config.train.batch_size} (incomplete batches "
                          "are dropped); lower train.batch_size")
    torch.manual_seed(config.seed)
    method = build_run_method(config, data)
    method = distributed.sync_batchnorm(method, context, config.train.sync_bn).to(device)
    optimizer = make_optimizer(method, config.train)
    dtype = amp_dtype(config, device)
    scaler = torch.amp.GradScaler("cuda", enabled=dtype == torch.float16)
    start, history = 0, []
    if context.is_main:
        for folder in (run_dir, run_dir / SNAPSHOT_DIR):  # checkpoints half-written when killed
            for stale in folder.glob(".*.pt.*"):
                stale.unlink()
    found = resume_state(run_dir) if resume else None
    if found is not None:
        state, source = found
        load_strict(method, state["method"], f"{source} (resuming)")
        optimizer.load_state_dict(state["optimizer"])
        scaler.load_state_dict(state["scaler"])
        start, history = state["epoch"], state["history"]
        if start > config.train.epochs:
            raise ConfigError(f"train.epochs = {config.train.epochs}, but {run_dir} has "
                              f"trained {start} epochs already; a run cannot be shortened")
    else:
        start_fresh(method)
    if context.is_main and start in config.train.snapshot_epochs and (
            found is None or not snapshot_file(run_dir, start).is_file()):
        # the initialisation, or a snapshot an interruption kept _save from writing
        save_atomic(encoder_file_state(as_method(method).encoders(), config, start),
                    snapshot_file(run_dir, start))
    if context.is_main and progress:
        _header(config, data, run_dir, method, len(train_index), start, device, dtype)
    if context.is_main:
        for warning in schedule_warnings(config.train):
            print(f"warning: {warning}", file=sys.stderr, flush=True)
    step_module = distributed.data_parallel(_Step(method), context)
    preprocess = preprocess_for(config.data, data.layout)
    board = TensorBoard(run_dir, enabled=context.is_main)
    stop = config.train.epochs if until_epoch is None else min(until_epoch, config.train.epochs)
    if config.train.epochs == 0 and context.is_main:
        write_provenance(run_dir, dump_config(config), resumed=False)
        _save(run_dir, method, optimizer, scaler, config, history, epoch=0)
    warned: set[str] = set()
    loader = EpochLoader(data, loader_workers(config.data.workers, device),
                         pin_memory=device.type == "cuda")
    try:
        for epoch in range(start, stop):
            row = _train_epoch(method, step_module, optimizer, scaler, dtype, preprocess,
                               loader, train_index, config, epoch, context, progress)
            history.append(row)
            distributed.check_in_sync(method, context)
            if context.is_main:
                if epoch == start:  # this start works: record its config and provenance
                    write_provenance(run_dir, dump_config(config), resumed=start > 0)
                _save(run_dir, method, optimizer, scaler, config, history, epoch + 1)
                board.log(row)
                for warning in collapse_warnings(row, config.train.collapse_warning, warned):
                    tqdm.write(f"warning: {warning}", file=sys.stderr)
                if progress:
                    tqdm.write(_summary(row, config.train.epochs))
            distributed.barrier(context)
    finally:
        board.close()
        if context.is_main:
            plot_curves(run_dir, history)
    return history


def _save(run_dir: Path, method: nn.Module, optimizer: torch.optim.Optimizer,
          scaler: torch.amp.GradScaler, config: RunConfig, history: list[dict],
          epoch: int) -> None:
    """Checkpoints after ``epoch`` epochs (0: the initialisation, for ``train.epochs: 0``)."""
    save_atomic({"epoch": epoch, "method": method.state_dict(),
                 "optimizer": optimizer.state_dict(), "scaler": scaler.state_dict(),
                 "history": history, "config": to_dict(config)}, run_dir / LAST_CHECKPOINT,
                keep_previous=run_dir / PREVIOUS_CHECKPOINT)
    encoders = encoder_file_state(as_method(method).encoders(), config, epoch)
    save_atomic(encoders, run_dir / ENCODER_CHECKPOINT)
    if epoch in config.train.snapshot_epochs:
        save_atomic(encoders, snapshot_file(run_dir, epoch))
    write_metrics(run_dir, history)


def schedule_warnings(train: TrainConfig) -> list[str]:
    """Settings that are valid but rarely meant: a decay step the schedule never reaches."""
    if train.schedule != "step":
        return []
    beyond = [m for m in train.milestones if m >= train.epochs]
    if not beyond or train.epochs == 0:
        return []
    return [f"train.milestones {beyond} lie at or beyond the {train.epochs} epochs of the "
            "schedule: the learning rate never decays there (scale the milestones with "
            "train.epochs?)"]


def collapse_warnings(row: dict[str, float], threshold: float | None, warned: set[str]
                      ) -> list[str]:
    """The method's logged embedding spreads below ``threshold``, each once per start (its
    name is added to ``warned``)."""
    if threshold is None:
        return []
    low = [key for key, value in row.items()
           if key.split("_")[0] == SPREAD and value < threshold and key not in warned]
    warned.update(low)
    return [f"epoch {int(row['epoch'])}: {key} {row[key]:.3f} < train.collapse_warning "
            f"{threshold:g}: the embeddings are collapsing onto few directions, and the "
            "contrastive loss will stay near chance (docs/training.md, collapse monitor)"
            for key in low]


def _header(config: RunConfig, data: PreparedDataset, run_dir: Path, method: nn.Module,
            samples: int, start: int, device: torch.device, dtype: torch.dtype | None) -> None:
    """What is about to train, where, on what."""
    encoders = ", ".join(f"{slot}: {section.name}"
                         for slot, section in config.encoder_sections().items())
    parameters = sum(p.numel() for p in method.parameters() if p.requires_grad)
    where = f"resuming after epoch {start}" if start else "from the start"
    board = "" if TensorBoard.available() else (
        " · tensorboard: not installed (pip install 'skelssl[tensorboard]')")
    tqdm.write(f"skelssl pretrain → {run_dir} ({where})\n"
               f"  {config.method.name} · {encoders} · {parameters / 1e6:.2f} M trainable "
               f"parameters · seed {config.seed}\n"
               f"  {config.data.path} {config.data.benchmark or ''}/{config.data.train_split}: "
               f"{samples} sequences · batch {config.train.batch_size} · "
               f"{config.train.epochs} epochs · {config.train.optimizer} lr {config.train.lr}\n"
               f"  device {device} · amp {dtype or 'off'}{board}")


def _summary(row: dict[str, float], epochs: int) -> str:
    extras = "  ".join(f"{k} {v:.4f}" for k, v in row.items()
                       if k not in ("epoch", "lr", "samples_per_s", "epoch_time_s"))
    return (f"epoch {int(row['epoch'])}/{epochs}  {extras}  lr {row['lr']:.4g}  "
            f"{row['samples_per_s']:.0f} samples/s  {row['epoch_time_s']:.1f} s")


def _train_epoch(method: nn.Module, step_module: nn.Module, optimizer: torch.optim.Optimizer,
                 scaler: torch.amp.GradScaler, dtype: torch.dtype | None,
                 preprocess: Preprocess, loader: EpochLoader, train_index: np.ndarray,
                 config: RunConfig, epoch: int, context: distributed.Context,
                 progress: bool) -> dict[str, float]:
    """One epoch; returns its row of metrics (means over all processes)."""
    device = context.device
    seed = epoch_seed(config.seed, epoch, context.rank)
    torch.manual_seed(seed)
    generator = torch.Generator(device=device).manual_seed(seed)
    epoch_hook, step_hook = (getattr(method, hook, None)
                             for hook in ("on_epoch_start", "on_step_start"))
    if epoch_hook is not None:
        epoch_hook(epoch)
    batches = epoch_batches(train_index, config.train.batch_size, config.seed, epoch,
                            rank=context.rank, world_size=context.world_size)
    method.train()
    sums: dict[str, torch.Tensor] = defaultdict(lambda: torch.zeros((), device=device))
    seen, lr = 0, config.train.lr
    started = time.perf_counter()
    bar = tqdm(total=len(batches), desc=f"epoch {epoch + 1}/{config.train.epochs}",
               disable=not (progress and context.is_main), leave=False, mininterval=1.0,
               dynamic_ncols=True)
    for step, (x, lengths, labels) in enumerate(loader.epoch(batches)):
        progress_now = TrainingProgress(epoch, step, len(batches), config.train.epochs)
        lr = learning_rate(config.train, progress_now.epoch_float)
        for group in optimizer.param_groups:
            group["lr"] = lr * group.get("lr_scale", 1.0)
        if step_hook is not None:
            step_hook(progress_now)
        x, lengths = preprocess(x.to(device, non_blocking=True), lengths.to(device))
        with torch.autocast(device.type, dtype=dtype or torch.float32, enabled=dtype is not None):
            out = step_module(Batch(x, lengths, labels.to(device, non_blocking=True)), epoch,
                              generator)
        optimizer.zero_grad(set_to_none=True)
        scaler.scale(out["loss"]).backward()
        if config.train.grad_clip:
            scaler.unscale_(optimizer)
            nn.utils.clip_grad_norm_(method.parameters(), config.train.grad_clip)
        scaler.step(optimizer)
        scaler.update()
        for key, value in out.items():
            sums[key] += value.detach().float()
        seen += len(x)
        bar.update()
        if not context.distributed and (step % 10 == 0 or step == len(batches) - 1):
            loss = out["loss"].item()  # a sync every 10 steps: progress and an early NaN stop
            _check_finite(loss, epoch, step)
            rate = seen / (time.perf_counter() - started)
            bar.set_postfix(loss=f"{loss:.4f}", samples_s=f"{rate:.0f}")
    bar.close()
    elapsed = time.perf_counter() - started
    keys = sorted(sums)
    totals = distributed.sum_across(torch.stack([sums[k] for k in keys]), context) / (
        len(batches) * context.world_size)
    row: dict[str, float] = {"epoch": epoch + 1}
    row.update({k: float(v) for k, v in zip(keys, totals, strict=True)})
    _check_finite(row["loss"], epoch, None)
    row.update(lr=lr, samples_per_s=seen * context.world_size / elapsed, epoch_time_s=elapsed)
    return row


def _check_finite(loss: float, epoch: int, step: int | None) -> None:
    if not math.isfinite(loss):
        where = f"epoch {epoch + 1}" + ("" if step is None else f", step {step + 1}")
        kept = f"epoch {epoch}" if epoch else "none yet"
        raise TrainingDiverged(f"loss became {loss} at {where}; stopped. Last good checkpoint: "
                               f"{kept} (last.pt). Lower train.lr or set train.grad_clip.")
