"""ActCLR's Fig. 3 on NW-UCLA: linear accuracy of features pooled over the actionlet only,
over the rest only, and over everything.

For each ActCLR run given, the query encoder's last maps of every sequence are pooled with the
run's own actionlets (against the average motion of the first 256 training sequences): weighted
by A and by 1 − A, over the half of the cells where A is largest and over the other half (equal
areas, hard regions), and uniformly. Each pooling gets the linear probe ``--preset`` (fit on the
training split, scored on the test split, final epoch). The page also says how concentrated the
actionlets are (mean A, share of Σ A on the top half of the cells) and how alike one sequence's
two halves' features are (cosine, beside that of two different sequences). Writes
docs/results/<topic>.{json,md}. From the repository root:

    python benchmarks/actclr_regions.py runs/actclr/nw-ucla-seed0/actclr
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch
from floors import probe
from results import cell, page_arguments, provenance, summary, write_results
from torch.nn.functional import cosine_similarity, normalize

from skelssl.engine.actionlets import REGIONS, region_features


def mean_pairwise_cosine(features: torch.Tensor) -> float:
    """Mean cosine similarity over every pair of different rows."""
    unit = normalize(features, dim=1)
    similarity = unit @ unit.T
    count = len(features)
    return float((similarity.sum() - similarity.diagonal().sum()) / (count * (count - 1)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", type=Path, nargs="+", help="ActCLR run directories (seeds)")
    parser.add_argument("--preset", default="crrl-std")
    page_arguments(parser, "actclr-regions-nw-ucla")
    args = parser.parse_args()
    started = time.perf_counter()
    scores: dict[str, list[float]] = {region: [] for region in REGIONS}
    means, top_shares, within, between = [], [], [], []
    for run in args.runs:
        train = region_features(run, "train")
        test = region_features(run, "test")
        means.append(test.actionlet_mean)
        top_shares.append(test.top_half_mass)
        within.append(float(cosine_similarity(test.features["actionlet top half"],
                                              test.features["bottom half"]).mean()))
        between.append(mean_pairwise_cosine(test.features["all"]))
        for region in REGIONS:
            scores[region].append(probe({"train": train.features[region],
                                         "test": test.features[region]},
                                        {"train": train.labels, "test": test.labels},
                                        args.preset))
    common = {**provenance(), "runs": [str(run) for run in args.runs],
              "wall_time_s": round(time.perf_counter() - started, 1)}
    rows = [{**common, "protocol": "linear", "preset": args.preset, "region": region,
             **summary(values)} for region, values in scores.items()]
    concentration = [{**common, "statistic": "actionlet mean (test)", **summary(means)},
                     {**common, "statistic": "share of Σ A on the top half (test)",
                      **summary(top_shares)},
                     {**common, "statistic": "cosine of a sequence's top-half and bottom-half "
                      "features (test)", **summary(within)},
                     {**common, "statistic": "cosine of two different sequences' features "
                      "(all, test)", **summary(between)}]
    markdown = [
        "# ActCLR: features of the actionlet, of the rest, and of everything (Fig. 3)",
        "",
        f"Command: `{common['command']}` · commit `{common['commit']}` · machine: "
        f"{common['machine']} · wall time {common['wall_time_s']} s. {args.note}",
        "",
        "The query encoder's last feature maps pooled with the run's actionlet A (Σ h·A / Σ A), "
        "with 1 − A, over the half of each map's cells where A is largest, over the other half, "
        f"and uniformly; linear = the `{args.preset}` probe on each, top-1 % on the test split, "
        "mean ± std over runs.",
        "",
        "| pooled over | linear |",
        "|---|---|",
        *[f"| {row['region']} | {cell(row)} |" for row in rows],
        "",
        "How concentrated the actionlets are, on the test split (a uniform A puts 0.50 of its "
        "mass on any half of the cells; an A on one joint in one frame, 1.00), and how alike "
        "the two halves' features of one sequence are, beside the features of two different "
        "sequences:",
        "",
        "| statistic | value |",
        "|---|---|",
        *[f"| {row['statistic']} | {cell(row, 2)} |" for row in concentration],
    ]
    write_results(args.out, args.topic, rows + concentration, markdown)


if __name__ == "__main__":
    main()
