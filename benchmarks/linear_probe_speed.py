"""Linear probe on cached features vs. re-running the frozen encoder every epoch.

Both train the same classifier with the same seed and batch order; only where the features
come from differs. Writes docs/results/linear-probe-speed.{json,md}. Run from the repository
root on a finished run directory:

    python benchmarks/linear_probe_speed.py runs/nw-ucla-skeletonclr-seed0 --epochs 10
"""

from __future__ import annotations

import argparse
import shutil
import time
from dataclasses import replace
from pathlib import Path

from results import provenance, write_results

from skelssl.eval import linear
from skelssl.eval.protocol import linear_probe, load_run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run_dir", type=Path)
    parser.add_argument("--preset", default="crossclr")
    parser.add_argument("--epochs", type=int, default=None,
                        help="shorten the preset (milestones scaled) to keep the uncached "
                             "probe affordable on a CPU")
    parser.add_argument("--out", type=Path, default=Path("docs/results"))
    args = parser.parse_args()
    preset = linear.get_preset(args.preset)
    if args.epochs:
        scale = args.epochs / preset.epochs
        preset = replace(preset, epochs=args.epochs,
                         milestones=tuple(max(1, round(m * scale)) for m in preset.milestones))
    linear.LINEAR_PRESETS["benchmark"] = preset
    shutil.rmtree(args.run_dir / "features", ignore_errors=True)  # extraction is timed too
    run = load_run(args.run_dir)
    stream = next(iter(run.encoders))
    timings, results = {}, {}
    for cache in (True, False):
        started = time.perf_counter()
        results[cache] = linear_probe(run, stream, "benchmark", cache=cache)
        timings[cache] = time.perf_counter() - started
    ratio = timings[False] / timings[True]
    common = {**provenance(), "method": run.config.method.name, "dataset": run.config.data.path,
              "split": run.config.data.benchmark, "protocol": "linear", "seeds": [0],
              "epoch": "final", "paper": None, "wall_time_s": round(sum(timings.values()), 1)}
    rows = [{**common, "variant": f"features {'cached' if cache else 'recomputed'}",
             "metric": "top1", "mean": round(results[cache]["top1"], 2), "std": None,
             "values": None, "probe_time_s": round(timings[cache], 1)} for cache in (True, False)]
    rows.append({**common, "variant": "recomputed ÷ cached", "metric": "speed_ratio",
                 "mean": round(ratio, 1), "std": None, "values": None})
    c = common
    markdown = [
        "# Linear probe: cached features vs. re-running the encoder",
        "",
        f"Command: `{c['command']}` · commit `{c['commit']}` · machine: {c['machine']} · "
        f"wall time {c['wall_time_s']} s · classifier seed 0.",
        "",
        f"Run `{args.run_dir}` ({run.config.method.name}, encoder epoch {run.encoder_epoch}), "
        f"stream {stream}, preset {args.preset} shortened to {preset.epochs} epochs "
        f"(lr {preset.lr}, batch {preset.batch_size}, ×{preset.gamma} at {preset.milestones}). "
        "Timings include feature extraction; the recomputing probe runs the frozen encoder on "
        "every training batch and on the test set after every epoch, like the original "
        "implementations.",
        "",
        "| features | top-1 (final epoch) | time (s) |",
        "|---|---|---|",
        *[f"| {'cached' if k else 'recomputed every epoch'} | {results[k]['top1']:.2f} | "
          f"{timings[k]:.1f} |" for k in (True, False)],
        "",
        f"Speed ratio: **{ratio:.1f}×**; accuracy difference "
        f"{abs(results[True]['top1'] - results[False]['top1']):.2f} points.",
    ]
    write_results(args.out, "linear-probe-speed", rows, markdown)


if __name__ == "__main__":
    main()
