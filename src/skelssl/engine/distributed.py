"""DDP launched by ``torchrun``: process-group setup, rank-aware reductions, sync checks."""

from __future__ import annotations

import inspect
import os
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch import nn

from skelssl.errors import ConfigError


@dataclass
class Context:
    """This process's place in the run."""

    rank: int = 0
    world_size: int = 1
    device: torch.device = torch.device("cpu")

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.world_size > 1


def pick_device(name: str) -> torch.device:
    """``auto`` = CUDA when available, else CPU."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(name)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ConfigError(f"train.device = {name!r} but CUDA is not available here")
    return device


def start(device_name: str) -> Context:
    """Join the process group when started by torchrun (WORLD_SIZE > 1), else run alone."""
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    device = pick_device(device_name)
    if world_size == 1:
        return Context(device=device)
    rank = int(os.environ["RANK"])
    if device.type == "cuda":
        device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
        torch.cuda.set_device(device)
    if not dist.is_initialized():
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    return Context(rank, world_size, device)


def stop(context: Context) -> None:
    if context.distributed and dist.is_initialized():
        dist.destroy_process_group()


def data_parallel(module: nn.Module, context: Context) -> nn.Module:
    """``module`` wrapped in DDP when distributed (gradients averaged across processes, buffers
    left to each process after the start), else ``module`` itself."""
    if not context.distributed:
        return module
    device_ids = [context.device] if context.device.type == "cuda" else None
    # torch >= 2.13 names the switch forward_sync_buffers (and warns on the old name)
    if "forward_sync_buffers" in inspect.signature(nn.parallel.DistributedDataParallel).parameters:
        return nn.parallel.DistributedDataParallel(module, device_ids=device_ids,
                                                   forward_sync_buffers=False)
    return nn.parallel.DistributedDataParallel(module, device_ids=device_ids,
                                               broadcast_buffers=False)


def sum_across(values: torch.Tensor, context: Context) -> torch.Tensor:
    """Element-wise sum over processes (``values`` itself when alone)."""
    if context.distributed:
        values = values.clone()
        dist.all_reduce(values)
    return values


def barrier(context: Context) -> None:
    if context.distributed:
        dist.barrier()


def check_in_sync(module: nn.Module, context: Context) -> None:
    """Fail when the processes' weights have drifted apart (a DDP bug would show here)."""
    if not context.distributed:
        return
    total = torch.stack([p.detach().double().sum() for p in module.parameters()]).sum()
    total = total.reshape(1).to(context.device)
    gathered = [torch.empty_like(total) for _ in range(context.world_size)]
    dist.all_gather(gathered, total)
    if any(not torch.allclose(g, gathered[0], rtol=1e-9, atol=0) for g in gathered):
        raise RuntimeError(f"DDP processes hold different weights: {[g.item() for g in gathered]}")


def sync_batchnorm(module: nn.Module, context: Context, enabled: bool) -> nn.Module:
    """``module`` with every BatchNorm synchronised across DDP processes when ``enabled``
    (``train.sync_bn``). A single process already normalises over the whole batch, so it is
    left as is; torch synchronises BatchNorm only on CUDA (NCCL), hence an error on CPU."""
    if not enabled or not context.distributed:
        return module
    if context.device.type != "cuda":
        raise ConfigError(f"train.sync_bn: true, but this run's {context.world_size} processes "
                          f"train on {context.device.type}; torch synchronises BatchNorm only "
                          "across CUDA processes (NCCL). Set train.sync_bn: false")
    return nn.SyncBatchNorm.convert_sync_batchnorm(module)
