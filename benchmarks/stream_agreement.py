"""How much the streams of a method disagree: the room its multi-stream ensemble has.

For every pair of a method's stream runs of the same seed: the share of test samples on which
their linear probes predict different classes, and the share both get wrong; for all its streams
together, the share at least one gets right. An ensemble gains over its best stream only where
the streams disagree. Each stream gets the linear probe (``--preset``, seed 0, on cached
features: as ``skelssl eval linear`` and the ensembles of benchmarks/method_nw_ucla.py).

Writes docs/results/<topic>.{json,md}. From the repository root:

    python benchmarks/stream_agreement.py --topic actclr-streams-nw-ucla \\
        --method "AimCLR=runs/aimclr-agcn-seed*,runs/aimclr-agcn-motion-seed*,..." \\
        --method "ActCLR=runs/actclr-agcn-seed*,runs/actclr-agcn-motion-seed*,..."
"""

from __future__ import annotations

import argparse
import itertools
import time
from collections import defaultdict
from pathlib import Path

import torch
from results import cell, page_arguments, provenance, run_family, summary, write_results

from skelssl.eval.protocol import linear_probe, load_run, split_labels


def method_rows(label: str, run_dirs: list[Path], preset: str) -> list[dict]:
    """Per stream, per pair of streams and for all of them: mean ± std over the seeds."""
    by_seed: dict[int, dict[str, torch.Tensor]] = defaultdict(dict)
    labels = torch.empty(0)
    for run_dir in run_dirs:
        run = load_run(run_dir, device="cpu")
        labels = split_labels(run, run.config.data.test_split)
        for stream in run.encoders:
            if stream in by_seed[run.config.seed]:
                raise SystemExit(f"{label}: two runs of stream {stream!r} with seed "
                                 f"{run.config.seed}")
            probe = linear_probe(run, stream, preset, progress=False)
            by_seed[run.config.seed][stream] = probe["logits"].argmax(dim=1)
    values: dict[tuple[str, str], list[float]] = defaultdict(list)
    for streams in by_seed.values():
        right = {stream: predicted == labels for stream, predicted in streams.items()}
        for stream in sorted(streams):
            values[(stream, "right")].append(100 * right[stream].float().mean().item())
        for a, b in itertools.combinations(sorted(streams), 2):
            values[(f"{a}–{b}", "disagree")].append(
                100 * (streams[a] != streams[b]).float().mean().item())
            values[(f"{a}–{b}", "both wrong")].append(
                100 * (~right[a] & ~right[b]).float().mean().item())
        values[("+".join(sorted(streams)), "any right")].append(
            100 * torch.stack(list(right.values())).any(dim=0).float().mean().item())
    return [{"method": label, "streams": streams, "metric": metric, "seeds": sorted(by_seed),
             **summary(found)} for (streams, metric), found in values.items()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--method", action="append", required=True, type=run_family,
                        help="LABEL=RUN_DIR,... (globs): a method's stream runs, any seeds")
    parser.add_argument("--preset", default="crrl-std", help="the linear probe's preset")
    page_arguments(parser, None)
    args = parser.parse_args()
    started = time.perf_counter()
    rows = [row for label, run_dirs in args.method
            for row in method_rows(label, run_dirs, args.preset)]
    common = {**provenance(), "protocol": "linear", "preset": args.preset,
              "wall_time_s": round(time.perf_counter() - started, 1)}
    rows = [{**common, **row} for row in rows]
    c = common
    lines = [f"# {args.topic}", "",
             f"Command: `{c['command']}` · commit `{c['commit']}` · machine: {c['machine']} · "
             f"wall time {c['wall_time_s']} s.", "",
             f"Test split, the `{args.preset}` linear probe of each stream run (final epoch, "
             "seed 0), mean ± std over pretraining seeds (per seed in brackets), % of the test "
             "samples. right: the stream's top-1; disagree: the two streams predict "
             "different classes; both wrong: neither is right; any right: at least one "
             "stream is (the most an ensemble could reach). "
             + args.note, "",
             "| method | streams | measure | % of test samples |", "|---|---|---|---|"]
    lines += [f"| {r['method']} | {r['streams']} | {r['metric']} | {cell(r)} |" for r in rows]
    write_results(args.out, args.topic, rows, lines)


if __name__ == "__main__":
    main()
