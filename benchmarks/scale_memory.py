"""Memory and time at NTU-120 scale: prepare, a training epoch, feature extraction and kNN.

Simulates NTU-120's raw folder (114,480 files by default) with symbolic links to the intact raw
samples in ../shared/data/ntu-samples, each under its own valid NTU-120 name, then runs, each as
its own process tree sampled every 0.2 s (resident and anonymous memory summed over the tree):

1. ``skelssl prepare ntu120`` — and, with ``--baseline-src PATH``, the same with another source
   tree (e.g. a commit before a change), one after the other in the same invocation;
2. one epoch of the training data path over all of xsub's training split: the trainer's batch
   reader on the memory-mapped arrays and its preprocessing, no model;
3. ``skelssl pretrain`` of SkeletonCLR xsub at full width (batch 128) for one epoch of a
   class-balanced ``--fraction`` of the training split: the model's share of memory;
4. in this process, features of ``--features`` test sequences by that run's encoder, and 1-NN
   of ``--knn`` × 256 features against as many.

Anonymous memory is what the process itself holds; resident memory also counts pages of
memory-mapped files, which the kernel writes back and drops as it needs (page cache).
Writes docs/results/scale-memory.{json,md}. From the repository root:

    python benchmarks/scale_memory.py --work /tmp/scale --baseline-src /tmp/before/src
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import torch
from results import provenance, write_results

from skelssl.data.readers.ntu import read_file
from skelssl.errors import SampleError
from skelssl.eval.knn import knn_predict

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "ntu-samples"
NTU120_FILES = 114_480
CONFIG = "configs/skeletonclr/ntu120-xsub.yaml"


def simulate_raw(folder: Path, count: int) -> int:
    """``count`` links with distinct NTU-120 names (every action and performer in turn, then
    setups) to the intact samples, cycled; returns how many intact samples they point to."""
    intact = []
    for path in sorted(SHARED.glob("*.skeleton")):
        try:
            read_file(path)
        except SampleError:  # the collection's truncated samples: not a source for links
            continue
        intact.append(path)
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(count):  # action fastest, then performer, setup, camera, replication
        j = i // 120
        link = folder / (f"S{j // 106 % 32 + 1:03d}C{j // 3392 % 3 + 1:03d}P{j % 106 + 1:03d}"
                         f"R{j // 10176 % 2 + 1:03d}A{i % 120 + 1:03d}.skeleton")
        if not link.is_symlink():
            link.symlink_to(intact[i % len(intact)].resolve())
    return len(intact)


def tree(pid: int) -> list[int]:
    """``pid`` and its descendants."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo += children.get(current, [])
    return found


def memory_mb(pids: list[int]) -> tuple[float, float]:
    """(resident, anonymous) MB summed over ``pids``."""
    rss = anon = 0
    for pid in pids:
        try:
            status = Path(f"/proc/{pid}/status").read_text().splitlines()
        except OSError:
            continue
        for line in status:
            if line.startswith("VmRSS:"):
                rss += int(line.split()[1])
            elif line.startswith("RssAnon:"):
                anon += int(line.split()[1])
    return rss / 1024, anon / 1024


class Peak:
    """Peak memory of a process tree, sampled in a thread until stopped."""

    def __init__(self, pid: int, interval: float = 0.2) -> None:
        self.rss = self.anon = 0.0
        self._pid, self._interval = pid, interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        while not self._stop.is_set():
            rss, anon = memory_mb(tree(self._pid))
            self.rss, self.anon = max(self.rss, rss), max(self.anon, anon)
            time.sleep(self._interval)

    def stop(self) -> dict:
        self._stop.set()
        self._thread.join()
        return {"peak_rss_mb": round(self.rss), "peak_anon_mb": round(self.anon)}


def measured(command: list[str], src: Path, what: str) -> dict:
    """Run ``command`` with ``src`` on PYTHONPATH; its wall time and peak memory."""
    env = {**os.environ, "PYTHONPATH": str(src)}
    print(f"{what}: {' '.join(command)}", flush=True)
    started = time.perf_counter()
    process = subprocess.Popen(command, env=env)
    peak = Peak(process.pid)
    code = process.wait()
    row = {"what": what, "wall_s": round(time.perf_counter() - started, 1), **peak.stop()}
    if code:
        raise SystemExit(f"{what} failed with exit status {code}")
    return row


def knn_in_process(n: int, dim: int) -> dict:
    """1-NN of n × dim random features against n × dim, in this process."""
    generator = torch.Generator().manual_seed(0)
    train = torch.randn(n, dim, generator=generator)
    test = torch.randn(n, dim, generator=generator)
    labels = torch.randint(0, 120, (n,), generator=generator)
    peak = Peak(os.getpid(), interval=0.05)
    started = time.perf_counter()
    knn_predict(train, labels, test, 1, 120)
    wall = time.perf_counter() - started
    return {"what": f"1-NN, {n:,} × {dim} against {n:,} × {dim} (in process)",
            "wall_s": round(wall, 1), **peak.stop(),
            "features_mb": round(2 * train.numel() * 4 / 2**20)}


def loader_pass(data_path: Path) -> None:
    """One epoch of the trainer's batches over xsub train, read and preprocessed; prints the
    rate."""
    from skelssl.config import load_config
    from skelssl.data.dataset import PreparedDataset
    from skelssl.data.loader import batch_loader, epoch_batches
    from skelssl.engine.assembly import preprocess_for

    config = load_config(CONFIG, [f"data.path={data_path}"])
    data = PreparedDataset.open(data_path)
    index = data.subset("xsub", "train").index
    preprocess = preprocess_for(config.data, data.layout)
    started = time.perf_counter()
    for x, lengths, _ in batch_loader(data, epoch_batches(index, 128, 0, 0)):
        preprocess(x, lengths)
    print(f"{len(index)} sequences at {len(index) / (time.perf_counter() - started):.0f}/s")


def features_in_process(run: Path, count: int) -> dict:
    """Features of the first ``count`` xsub test sequences by the run's encoder."""
    from skelssl.eval.features import extract_features
    from skelssl.eval.protocol import load_run

    loaded = load_run(run, "trained")
    encoder = next(iter(loaded.encoders.values()))
    index = loaded.split("test")[:count]
    peak = Peak(os.getpid(), interval=0.05)
    started = time.perf_counter()
    features = extract_features(encoder, loaded.data, index, loaded.preprocess, loaded.device,
                                loaded.config.eval.batch_size)
    wall = time.perf_counter() - started
    return {"what": f"features of {len(features):,} xsub test sequences (in process)",
            "wall_s": round(wall, 1), **peak.stop(),
            "sequences_per_s": round(len(features) / wall, 1)}


def main() -> None:
    if sys.argv[1:2] == ["--loader-pass"]:
        loader_pass(Path(sys.argv[2]))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, required=True, help="scratch folder (≈ 12 GB)")
    parser.add_argument("--files", type=int, default=NTU120_FILES)
    parser.add_argument("--baseline-src", type=Path, default=None,
                        help="another source tree whose prepare runs beside this one's")
    parser.add_argument("--fraction", type=float, default=0.05,
                        help="of xsub train, pretrained for one epoch")
    parser.add_argument("--features", type=int, default=4096,
                        help="test sequences encoded in process (0: skip)")
    parser.add_argument("--knn", type=int, default=100_000, help="features per side (0: skip)")
    parser.add_argument("--note", default="")
    parser.add_argument("--out", type=Path, default=Path("docs/results"))
    args = parser.parse_args()
    started = time.perf_counter()
    src = Path(__file__).resolve().parents[1] / "src"
    intact = simulate_raw(args.work / "raw", args.files)
    skelssl = [sys.executable, "-m", "skelssl"]
    rows = []
    trees = [("this commit", src)]
    if args.baseline_src:
        trees.append(("baseline", args.baseline_src.resolve()))
    for label, tree_src in trees:
        out = args.work / f"ntu120-{label.replace(' ', '-')}"
        shutil.rmtree(out, ignore_errors=True)
        rows.append({**measured([*skelssl, "prepare", "ntu120", "--raw",
                                 str(args.work / "raw"), "--out", str(out)], tree_src,
                                f"prepare ntu120, {args.files:,} files ({label})"),
                     "source": label})
    data = args.work / "ntu120-this-commit"
    joints_gb = (data / "joints.npy").stat().st_size / 1e9
    for extra in trees[1:]:
        shutil.rmtree(args.work / f"ntu120-{extra[0]}", ignore_errors=True)
    rows.append(measured([sys.executable, __file__, "--loader-pass", str(data)], src,
                         "training data path: 1 epoch of xsub train, read + preprocessed"))
    run = args.work / "run"
    shutil.rmtree(run, ignore_errors=True)
    settings = [f"data.path={data}", "train.epochs=1", f"train.label_fraction={args.fraction}"]
    rows.append(measured([*skelssl, "pretrain", CONFIG, "--out", str(run),
                          *[x for s in settings for x in ("--set", s)]], src,
                         f"pretrain, 1 epoch of {args.fraction:.0%} of xsub train (batch 128)"))
    if args.features:
        rows.append(features_in_process(run, args.features))
    if args.knn:
        rows.append(knn_in_process(args.knn, 256))
    common = {**provenance(), "files": args.files, "intact_samples": intact,
              "joints_gb": round(joints_gb, 2),
              "wall_time_s": round(time.perf_counter() - started, 1)}
    rows = [{**common, **row} for row in rows]
    table = [f"| {r['what']} | {r['wall_s']:.0f} | {r['peak_anon_mb']:,} | {r['peak_rss_mb']:,} |"
             for r in rows]
    markdown = [
        "# Memory and time at NTU-120 scale",
        "",
        f"Command: `{common['command']}` · commit `{common['commit']}` · machine: "
        f"{common['machine']} · wall time {common['wall_time_s']} s · no randomness but the "
        f"kNN features (seed 0). {args.note}",
        "",
        f"NTU-120's {args.files:,} raw files simulated by links to the {intact} intact raw "
        f"NTU samples (`../shared/data/ntu-samples`), cycled; the prepared `joints.npy` holds "
        f"{joints_gb:.1f} GB. Each step runs as its own process tree, sampled every 0.2 s: "
        "peak anonymous memory (what the processes hold themselves) and peak resident memory "
        "(which also counts pages of memory-mapped files: page cache the kernel writes back "
        "and drops as it needs), both summed over the tree (pages shared by forked reader "
        "processes count once per process).",
        "",
        "| step | wall s | peak anonymous MB | peak resident MB |",
        "|---|---|---|---|",
        *table,
    ]
    write_results(args.out, "scale-memory", rows, markdown)


if __name__ == "__main__":
    main()
