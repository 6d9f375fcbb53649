"""ActCLR's Fig. 3 on NW-UCLA: linear accuracy of features pooled over the actionlet only,
over the rest only, and over everything.

For each ActCLR run given, the query encoder's last maps of every sequence are pooled three
ways with the run's own actionlets (against the average motion of the first 256 training
sequences) and each pooling gets the linear probe ``--preset`` (fit on the training split,
scored on the test split, final epoch). Writes docs/results/<topic>.{json,md}. From the
repository root:

    python benchmarks/actclr_regions.py runs/actclr/nw-ucla-seed0/actclr
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from floors import probe
from results import cell, provenance, summary, write_results

from skelssl.engine.actionlets import region_features

REGIONS = ("actionlet", "non-actionlet", "all")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", type=Path, nargs="+", help="ActCLR run directories (seeds)")
    parser.add_argument("--preset", default="crrl-std")
    parser.add_argument("--topic", default="actclr-regions-nw-ucla")
    parser.add_argument("--note", default="")
    parser.add_argument("--out", type=Path, default=Path("docs/results"))
    args = parser.parse_args()
    started = time.perf_counter()
    scores: dict[str, list[float]] = {region: [] for region in REGIONS}
    for run in args.runs:
        train, train_labels = region_features(run, "train")
        test, test_labels = region_features(run, "test")
        for region in REGIONS:
            scores[region].append(probe({"train": train[region], "test": test[region]},
                                        {"train": train_labels, "test": test_labels},
                                        args.preset))
    common = {**provenance(), "runs": [str(run) for run in args.runs],
              "wall_time_s": round(time.perf_counter() - started, 1)}
    rows = [{**common, "protocol": "linear", "preset": args.preset, "region": region,
             **summary(values)} for region, values in scores.items()]
    markdown = [
        "# ActCLR: features of the actionlet, of the rest, and of everything (Fig. 3)",
        "",
        f"Command: `{common['command']}` · commit `{common['commit']}` · machine: "
        f"{common['machine']} · wall time {common['wall_time_s']} s. {args.note}",
        "",
        "The query encoder's last feature maps pooled with the run's actionlet A (Σ h·A / Σ A), "
        "with 1 − A, and uniformly; linear = the "
        f"`{args.preset}` probe on each, top-1 % on the test split, mean ± std over runs.",
        "",
        "| pooled over | linear |",
        "|---|---|",
        *[f"| {row['region']} | {cell(row)} |" for row in rows],
    ]
    write_results(args.out, args.topic, rows, markdown)


if __name__ == "__main__":
    main()
