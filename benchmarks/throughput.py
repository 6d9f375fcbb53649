"""SkeletonCLR pretraining throughput at NTU-60 or NW-UCLA shape, beside the official code, and
the overhead around the model.

full step    = what `skelssl pretrain` does per batch: read the memory-mapped prepared data
               (DataLoader workers), preprocess on the device (centre, view alignment, resize
               to 50 frames), shear + temporal crop, stream, query/key encoders, InfoNCE,
               queue update, backward, SGD step.
compute step = the same method step on two views already augmented and on the device
               (5 warm-up steps, then at least 60 timed: the epoch's batches cycled).
overhead     = time per full step ÷ time per compute step (target ≤ 1.15).

Each is measured in fp32 and in bf16 autocast: ``train.amp`` on a GPU, ``train.cpu_amp`` on a
CPU with native bf16 (AMX / AVX512-BF16). ``--official PYTHON`` also runs the official SkeletonCLR
harness (``../shared/bench/official-skeletonclr``, with a Python that has its dependencies) in
the same invocation, so the ratios compare codes on one machine at one time.

``--shape ntu60`` (default): the paper's settings on a synthetic dataset of NTU-60 shape (batch
128, V 25, M 2), both official steps. ``--shape nw-ucla``: configs/skeletonclr/nw-ucla.yaml on
the prepared NW-UCLA data (batch 64, V 20, M 1); the official code has no 20-joint graph and
its launcher no NW-UCLA feeder, so only their model's pure step runs, with the layout's edges
added to their graph in memory (benchmarks/official_pure_step.py).

Writes docs/results/throughput.{json,md} (NW-UCLA: throughput-nw-ucla). Run from the
repository root:

    python benchmarks/throughput.py --official /tmp/official-venv/bin/python
    python benchmarks/throughput.py --shape nw-ucla --official /tmp/official-venv/bin/python
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch
from official_pure_step import operator_profile
from results import provenance, write_results

from skelssl.config import apply_overrides, load_config, read_yaml
from skelssl.data.dataset import PreparedDataset
from skelssl.data.loader import BatchReader, epoch_batches, loader_workers
from skelssl.data.prepare import PrepareOptions, prepare
from skelssl.engine.assembly import build_run_method, preprocess_for
from skelssl.engine.distributed import pick_device
from skelssl.engine.optim import make_optimizer
from skelssl.engine.run_dir import cpu_has_bf16
from skelssl.engine.trainer import amp_dtype, pretrain

OFFICIAL = Path("../shared/bench/official-skeletonclr/run.sh")
NW_UCLA_CONFIG = Path("configs/skeletonclr/nw-ucla.yaml")
WARMUP_STEPS, TIMED_STEPS = 5, 60  # the model steps: a GPU runs 15 of them in a fraction of a
# second, where one late kernel would move the rate by percents


def config_for(data: Path, batch: int, workers: int | None, device: str, bf16: bool
               ) -> dict:
    return {"method": {"name": "skeletonclr"},  # paper settings: queue 32768, m 0.999
            "encoder": {"name": "stgcn", "hidden_channels": 16, "feature_dim": 256},
            "data": {"path": str(data), "benchmark": "xsub", "persons": 2, "frames": 50,
                     "center": "frame", "align_view": True, "workers": workers},
            "train": {"epochs": 2, "batch_size": batch, "device": device,
                      "amp": bf16, "cpu_amp": bf16}, "seed": 0}


def nw_ucla_config_for(data: Path, workers: int | None, device: str, bf16: bool) -> dict:
    """The NW-UCLA config itself, for two epochs, in fp32 or bf16 autocast (``amp`` on a GPU,
    ``cpu_amp`` on a CPU)."""
    return apply_overrides(read_yaml(NW_UCLA_CONFIG), [
        f"data.path={data}", f"data.workers={'null' if workers is None else workers}",
        "train.epochs=2", f"train.device={device}", f"train.amp={str(bf16).lower()}",
        f"train.cpu_amp={str(bf16).lower()}"])


def full_step_rate(config, run_dir: Path) -> tuple[float, float]:
    """Samples/s of the engine's second epoch (the first warms up), and that epoch's steps."""
    history = pretrain(config, run_dir, progress=False)
    return history[-1]["samples_per_s"], history[-1]["epoch_time_s"]


def compute_step_rate(config, steps: int, profile_steps: int = 0) -> tuple[float, list[dict]]:
    """Samples/s of the method step alone, on views prepared beforehand on the device, and
    with ``profile_steps`` its operators (as the official side's, ``operator_profile``)."""
    data = PreparedDataset.open(config.data.path)
    device = pick_device(config.train.device)
    torch.manual_seed(0)
    method = build_run_method(config, data).to(device).train()
    optimizer = make_optimizer(method, config.train)
    preprocess = preprocess_for(config.data, data.layout)
    generator = torch.Generator(device=device).manual_seed(0)
    reader = BatchReader(data, [])
    index = data.indices(config.data.benchmark, config.data.train_split)
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

    for i in range(WARMUP_STEPS):
        step(*views[i % len(views)])
    if device.type == "cuda":
        torch.cuda.synchronize()
    timed = max(len(views), TIMED_STEPS)
    started = time.perf_counter()
    for i in range(timed):
        step(*views[i % len(views)])
    if device.type == "cuda":
        torch.cuda.synchronize()
    rate = timed * config.train.batch_size / (time.perf_counter() - started)
    operators = operator_profile(lambda: step(*views[0]), profile_steps) if profile_steps else []
    return rate, operators


def official_rates(python: str, samples: int, work: Path) -> dict:
    """The official harness's full (steady state) and pure samples/s on this machine."""
    env = {**os.environ, "PY": python, "WORK": str(work), "N": str(samples)}
    subprocess.run(["bash", str(OFFICIAL)], env=env, check=True)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    return json.loads((work / f"results-{device}.json").read_text())


def official_pure_step(python: str, config, work: Path, profile_steps: int = 0,
                       timed_steps: int = TIMED_STEPS) -> dict:
    """Their model's pure step at the config's shape, batch, queue and momentum, with the
    layout's edges added to their graph in memory (benchmarks/official_pure_step.py); with
    ``profile_steps``, its operators too."""
    layout = PreparedDataset.open(config.data.path).layout
    edges = [[joint, parent] for joint, parent in enumerate(layout.parents) if parent != joint]
    src = work / "crossclr-src"
    if not src.is_dir():
        shutil.copytree(OFFICIAL.parent / "crossclr-src", src)
    command = [python, str(Path(__file__).with_name("official_pure_step.py")), "--layout",
               json.dumps({"joints": layout.num_joints, "edges": edges,
                           "center": layout.center}),
               "--batch", str(config.train.batch_size), "--persons", str(config.data.persons),
               "--frames", str(config.data.frames), "--queue", str(config.method.queue_size),
               "--momentum", str(config.method.momentum), "--profile", str(profile_steps),
               "--steps", str(timed_steps), "--warmup", str(min(WARMUP_STEPS, timed_steps)),
               "--device", pick_device(config.train.device).type]
    result = subprocess.run(command, env={**os.environ, "CROSSCLR_SRC": str(src)}, check=True,
                            capture_output=True, text=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shape", choices=("ntu60", "nw-ucla"), default="ntu60")
    parser.add_argument("--data", type=Path, default=Path("data/nw-ucla"),
                        help="--shape nw-ucla: the prepared NW-UCLA dataset")
    parser.add_argument("--batch", type=int, default=128, help="--shape ntu60: batch size")
    parser.add_argument("--per-class", type=int, default=80,
                        help="synthetic samples per class (16 classes, ntu25, 2 persons)")
    parser.add_argument("--workers", type=int, default=None,
                        help="loader processes (default: the engine's choice, none on CPU)")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--official", default=None, metavar="PYTHON",
                        help="run the official harness too, with this Python")
    parser.add_argument("--official-samples", type=int, default=2048,
                        help="samples of the official harness's synthetic data")
    parser.add_argument("--profile", type=int, default=0, metavar="STEPS",
                        help="profile this many fp32 steps of both codes' model step by "
                             "operator on the CPU (the page's 'where the time goes' table; "
                             "needs --official)")
    parser.add_argument("--topic", default=None, help="results page name (default: "
                        "throughput[-nw-ucla], with -gpu on a GPU)")
    parser.add_argument("--note", default="", help="a sentence for the page (what was measured "
                        "where, what the numbers mean)")
    parser.add_argument("--out", type=Path, default=Path("docs/results"))
    args = parser.parse_args()
    started = time.perf_counter()
    device = pick_device(args.device)
    precisions = [False] + ([True] if device.type == "cuda" or cpu_has_bf16() else [])
    measured: dict[str, float] = {}
    profiles: dict[str, list[dict]] = {}
    ucla = args.shape == "nw-ucla"
    if ucla and not (args.data / "meta.json").is_file():
        sys.exit(f"{args.data}: no prepared NW-UCLA dataset; run `skelssl prepare nw-ucla --raw "
                 f".../all_sqe --out {args.data}` first")
    with tempfile.TemporaryDirectory() as tmp:
        if ucla:
            data = args.data
        else:
            data, _ = prepare("synthetic", Path(tmp) / "data",
                              PrepareOptions(per_class=args.per_class, seed=0))

        def configured(bf16: bool):
            return load_config(nw_ucla_config_for(data, args.workers, args.device, bf16)
                               if ucla else config_for(data, args.batch, args.workers,
                                                       args.device, bf16))

        first = configured(False)
        steps = len(epoch_batches(PreparedDataset.open(data).indices(
            first.data.benchmark, first.data.train_split), first.train.batch_size, 0, 0))
        if args.official and ucla:
            pure = official_pure_step(args.official, first, Path(tmp), args.profile)
            measured["official pure"] = pure["pure_samples_per_s"]
        elif args.official:
            official = official_rates(args.official, args.official_samples,
                                      Path(tmp) / "official")
            measured["official full"] = official["full_steady_samples_per_s"]
            measured["official pure"] = official["pure_samples_per_s"]
            if args.profile:  # the harness timed their step: one warm-up, then the profile
                pure = official_pure_step(args.official, first, Path(tmp), args.profile, 1)
        if args.official and args.profile:
            profiles["official"] = pure["operators"]
        for bf16 in precisions:
            name = "bf16" if bf16 else "fp32"
            config = configured(bf16)
            measured[f"skelssl full {name}"], _ = full_step_rate(config,
                                                                 Path(tmp) / f"run-{name}")
            measured[f"skelssl compute {name}"], operators = compute_step_rate(
                config, steps, 0 if bf16 else args.profile)
            if operators:
                profiles["skelssl"] = operators
    workers = loader_workers(args.workers, device)
    wall = round(time.perf_counter() - started, 1)
    write_tables(args, measured, profiles, steps, workers, wall)


def write_tables(args: argparse.Namespace, measured: dict[str, float],
                 profiles: dict[str, list[dict]], steps: int, workers: int, wall: float) -> None:
    """Rows per measurement and per ratio; the Markdown table."""
    ucla = args.shape == "nw-ucla"
    common = {**provenance(), "method": "skeletonclr", "protocol": "pretrain", "seeds": [0],
              "dataset": "nw-ucla" if ucla else "synthetic (NTU-60 shape)",
              "split": "view3/train" if ucla else "xsub/train", "epoch": None, "paper": None,
              "wall_time_s": wall}
    ratios = {}
    for name in ("fp32", "bf16"):
        if f"skelssl full {name}" in measured:
            ratios[f"overhead {name} (full ÷ compute time)"] = (
                measured[f"skelssl compute {name}"] / measured[f"skelssl full {name}"])
            if "official full" in measured:
                ratios[f"skelssl full {name} ÷ official full"] = (
                    measured[f"skelssl full {name}"] / measured["official full"])
            if "official pure" in measured:
                if ucla:
                    ratios[f"skelssl full {name} ÷ official pure"] = (
                        measured[f"skelssl full {name}"] / measured["official pure"])
                ratios[f"skelssl compute {name} ÷ official pure"] = (
                    measured[f"skelssl compute {name}"] / measured["official pure"])
    rows = [{**common, "variant": k, "metric": "samples_per_s", "mean": round(v, 2),
             "std": None, "values": None} for k, v in measured.items()]
    rows += [{**common, "variant": k, "metric": "ratio", "mean": round(v, 3), "std": None,
              "values": None} for k, v in ratios.items()]
    c = common
    gpu = pick_device(args.device).type == "cuda"
    official = ("" if "official pure" in measured else
                " The official code was not run this time (`--official PYTHON`).")
    if ucla:
        setting = (f"SkeletonCLR with `{NW_UCLA_CONFIG}` (ST-GCN 1/4 width, queue 256, m 0.99, "
                   f"batch 64) on the prepared NW-UCLA training views (T = 50 after resizing, "
                   f"V = 20, M = 1; {steps} steps per epoch, loader processes: {workers}).")
        theirs = ("The official code has no 20-joint graph and no NW-UCLA feeder: its pure "
                  "step (their SkeletonCLR model, their ST-GCN with its dropout 0.5, SGD, "
                  "queue and momentum as ours, on one batch in memory) runs with NW-UCLA's "
                  "edges added to their graph in memory (benchmarks/official_pure_step.py), "
                  "in the same invocation; there is no official full step at this shape.")
    else:
        setting = (f"SkeletonCLR with the paper's model and settings (ST-GCN 1/4 width, feature "
                   f"256, queue 32768, batch {args.batch}) on inputs of NTU-60 shape (T = 50 "
                   f"after resizing, V = 25, M = 2), read from a prepared synthetic dataset on "
                   f"disk ({steps} steps per epoch, loader processes: {workers}).")
        theirs = (f"The official harness ({OFFICIAL.parent}, {args.official_samples} samples "
                  "of the same shape) runs in the same invocation: its full step is their "
                  "launcher with 4 loader workers in steady state, its pure step their model "
                  "step on a batch in memory.")
    markdown = [
        "# Pretraining throughput" + (" at NW-UCLA shape" if ucla else ""),
        "",
        f"Command: `{c['command']}` · commit `{c['commit']}` · machine: {c['machine']} · "
        f"wall time {wall} s · seed 0.",
        "",
        f"{setting} The full step is the engine's second epoch; the compute step runs the "
        "method on that epoch's batches, whose two views were augmented beforehand and "
        f"already sit on the device, {WARMUP_STEPS} steps to warm up, then at least "
        f"{TIMED_STEPS} timed (the batches again from the first, where the epoch has fewer). "
        f"{precision_note(gpu)} {theirs}{official} "
        f"{gpu_pointer(args, ucla)} "
        f"{args.note}".rstrip(),
        "",
        "| step | samples/s |",
        "|---|---|",
        *[f"| {k} | {v:.1f} |" for k, v in measured.items()],
        *[f"| **{k}** | **{v:.2f}** |" for k, v in ratios.items()],
        *time_table(profiles, args.profile),
    ]
    rows += [{**common, "variant": f"{code} operators (fp32 model step)", "metric": "profile",
              "mean": None, "std": None, "values": operators}
             for code, operators in profiles.items()]
    write_results(args.out, args.topic or default_topic(ucla, gpu), rows, markdown)


def precision_note(gpu: bool) -> str:
    """What the page's fp32 and bf16 rows mean on this device."""
    if gpu:
        return ("fp32 = `train.amp: false`, bf16 = `train.amp: true` (the default on a GPU: "
                "bf16 autocast); the official code runs in fp32.")
    return "bf16 = `train.cpu_amp: true` (bf16 autocast on a CPU with AMX / AVX512-BF16)."


def default_topic(ucla: bool, gpu: bool) -> str:
    """The results page a shape and device write to."""
    return ("throughput-nw-ucla" if ucla else "throughput") + ("-gpu" if gpu else "")


def gpu_pointer(args: argparse.Namespace, ucla: bool) -> str:
    """On a CPU page: where the GPU rows are, or that none were measured yet."""
    if pick_device(args.device).type == "cuda":
        return ""
    page = default_topic(ucla, gpu=True) + ".md"
    shape = " --shape nw-ucla" if ucla else ""
    where = (f"[{page}]({page})" if (args.out / page).is_file() else
             f"{page} (not measured yet)")
    return (f"On a GPU, `python benchmarks/throughput.py{shape} --device cuda --official "
            f"PYTHON` writes {where}.")


def time_table(profiles: dict[str, list[dict]], steps: int, top: int = 12) -> list[str]:
    """Markdown: both codes' model step by operator (self CPU time), the operators that weigh
    most in either, and the share of convolutions (forward + backward)."""
    if len(profiles) < 2:
        return []
    by_code = {code: {op["operator"]: op for op in ops} for code, ops in profiles.items()}
    names = sorted(set().union(*by_code.values()), key=lambda name: -max(
        ops[name]["share"] if name in ops else 0.0 for ops in by_code.values()))[:top]

    def cell(code: str, name: str) -> str:
        op = by_code[code].get(name)
        return "–" if op is None else f"{op['ms_per_step']:.1f} ({100 * op['share']:.0f} %)"

    def conv_ms(code: str) -> float:
        return sum(op["ms_per_step"] for name, op in by_code[code].items()
                   if "convolution" in name)

    totals = {code: sum(op["ms_per_step"] for op in ops.values())
              for code, ops in by_code.items()}
    return ["", "## Where the time goes", "",
            f"Both codes' model step in fp32 (the compute and pure steps above), {steps} steps "
            "under torch.profiler: self CPU time per step by operator, the operators that weigh "
            f"most in either code. Convolutions (forward + backward, the same oneDNN kernels in "
            f"both) take {100 * conv_ms('official') / totals['official']:.0f} % of the official "
            f"step and {100 * conv_ms('skelssl') / totals['skelssl']:.0f} % of skelssl's: with "
            "every other operator free, skelssl's step could be at most "
            f"{totals['official'] / conv_ms('skelssl'):.2f}× the official one in fp32. More "
            "takes fewer or cheaper convolutions: bf16 on a CPU that multiplies it natively, a "
            "GPU, or (at NTU-60 shape) leaving out the empty second-person slots.", "",
            "| operator | official ms/step (share) | skelssl ms/step (share) |", "|---|---|---|",
            *[f"| `{name}` | {cell('official', name)} | {cell('skelssl', name)} |"
              for name in names]]


if __name__ == "__main__":
    main()
