"""Nearest neighbour on raw preprocessed coordinates: the floor a learned 1-NN should beat.

For each config, the test sequences are preprocessed exactly as that config's runs see them
(its `data` section), resized to 50 frames when the config keeps variable lengths, flattened,
and matched to the training sequences by cosine similarity (1-NN, as CRRL/ISC/P&C report).
No encoder, no training. Writes docs/results/raw-nearest-neighbour.{json,md}. From the
repository root, after `skelssl prepare nw-ucla --raw .../all_sqe --out data/nw-ucla`:

    python benchmarks/raw_nearest_neighbour.py configs/crrl/nw-ucla-ser.yaml \
        configs/skeletonclr/nw-ucla.yaml "configs/crrl/nw-ucla-ser.yaml,data.view_axes=hips"

Each argument is a config, optionally followed by comma-separated overrides.
"""

from __future__ import annotations

import argparse
import dataclasses
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from results import provenance, write_results

from skelssl.config import load_config
from skelssl.data.dataset import PreparedDataset
from skelssl.engine.assembly import preprocess_for
from skelssl.eval.metrics import top1

FRAMES = 50


def raw_nearest_neighbour(config_path: Path, overrides: list[str]) -> dict:
    """1-NN top-1 on flattened preprocessed coordinates of one config's data."""
    config = load_config(config_path, overrides)
    data_config = config.data
    if not data_config.frames:
        data_config = dataclasses.replace(data_config, frames=FRAMES)
    data = PreparedDataset.open(data_config.path)
    preprocess = preprocess_for(data_config, data.layout)
    features, labels = {}, {}
    for split in (data_config.train_split, data_config.test_split):
        index = data.indices(data_config.benchmark, split)
        x = torch.from_numpy(np.array(data.joints[index], dtype=np.float32))
        x, _ = preprocess(x, torch.from_numpy(np.asarray(data.lengths[index])))
        features[split] = F.normalize(x.flatten(1), dim=1)
        labels[split] = torch.from_numpy(np.asarray(data.labels[index], dtype=np.int64))
    similarity = features[data_config.test_split] @ features[data_config.train_split].T
    predictions = labels[data_config.train_split][similarity.argmax(dim=1)]
    return {"config": str(config_path), "overrides": overrides,
            "preprocessing": dataclasses.asdict(data_config),
            "top1": round(top1(predictions, labels[data_config.test_split]), 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("configs", nargs="+", help="CONFIG[,KEY=VALUE,...]")
    parser.add_argument("--out", type=Path, default=Path("docs/results"))
    args = parser.parse_args()
    started = time.perf_counter()
    results = []
    for spec in args.configs:
        path, *overrides = spec.split(",")
        results.append(raw_nearest_neighbour(Path(path), overrides))
    common = {**provenance(), "protocol": "knn", "k": 1, "metric": "top1",
              "variant": "raw coordinates", "seeds": [], "paper": None,
              "wall_time_s": round(time.perf_counter() - started, 1)}
    rows = [{**common, **result, "mean": result["top1"], "std": None,
             "values": [result["top1"]]} for result in results]
    lines = [f"| `{r['config']}` {' '.join(r['overrides'])} | {r['top1']:.1f} |" for r in rows]
    markdown = [
        "# Nearest neighbour on raw coordinates",
        "",
        f"Command: `{common['command']}` · commit `{common['commit']}` · machine: "
        f"{common['machine']} · wall time {common['wall_time_s']} s · deterministic (no seed).",
        "",
        "Each config's test sequences, preprocessed as its runs see them (resized to "
        f"{FRAMES} frames when the config keeps variable lengths), flattened and matched to "
        "the training sequences by cosine similarity: 1-NN with no encoder at all, the floor a "
        "learned representation's 1-NN should beat.",
        "",
        "| config | 1-NN top-1 |",
        "|---|---|",
        *lines,
    ]
    write_results(args.out, "raw-nearest-neighbour", rows, markdown)
    print("\n".join(markdown))


if __name__ == "__main__":
    main()
