"""How often CrosSCLR's mined positive has the query's action label (mining precision).

For a crossclr run, every training sequence (preprocessed as in training, no augmentation,
encoders in eval mode) is embedded by each stream's query encoder and head. Each sequence then
plays the query against a queue of `queue_size` other training sequences drawn at random; the
mined positive is the queue entry with the highest similarity in the guiding stream (a partner
for cross-view mining, the stream itself for single-view mining). Precision = the fraction of
mined positives with the query's label; `chance` = the fraction of queue entries with it.
Writes docs/results/crossclr-mining-precision.{json,md}:

    python benchmarks/crossclr_mining_precision.py runs/crossclr-nw-ucla/SkeletonCLR-seed0 \
        runs/crossclr-nw-ucla/CrosSCLR-seed0
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from results import provenance, write_results

from skelssl.config import load_config
from skelssl.data.dataset import PreparedDataset
from skelssl.engine.assembly import build_run_method, preprocess_for
from skelssl.engine.checkpoint import load_checkpoint
from skelssl.transforms.streams import stream

DRAWS = 5  # random queues per query


@torch.no_grad()
def embeddings(run_dir: Path) -> tuple[dict[str, torch.Tensor], torch.Tensor, int]:
    """Each stream's normalised query embedding of every training sequence, the labels and
    the run's queue size."""
    config = load_config(run_dir / "config.yaml")
    data = PreparedDataset.open(config.data.path)
    method = build_run_method(config, data)
    method.load_state_dict(load_checkpoint(run_dir / "last.pt")["method"])
    method.eval()
    index = data.indices(config.data.benchmark, config.data.train_split)
    x = torch.from_numpy(np.array(data.joints[index], dtype=np.float32))
    x, _ = preprocess_for(config.data, data.layout)(x, torch.from_numpy(data.lengths[index]))
    out = {name: torch.cat([branch.embed_query(stream(part, name, data.layout))
                            for part in x.split(128)])
           for name, branch in method.branches.items()}
    labels = torch.from_numpy(np.asarray(data.labels[index], dtype=np.int64))
    return out, labels, config.method.queue_size


def precision(guide: torch.Tensor, labels: torch.Tensor, queue_size: int, seed: int = 0
              ) -> tuple[float, float]:
    """(mined-positive precision, chance) in %, over DRAWS random queues per query."""
    generator = torch.Generator().manual_seed(seed)
    n = len(labels)
    hits, chance = [], []
    similarity = F.normalize(guide, dim=1) @ F.normalize(guide, dim=1).T
    for _ in range(DRAWS):
        scores = torch.rand(n, n, generator=generator)
        scores.fill_diagonal_(-1.0)  # never the query itself
        queue = scores.topk(min(queue_size, n - 1), dim=1).indices  # random others per query
        mined = queue.gather(1, similarity.gather(1, queue).argmax(dim=1, keepdim=True))[:, 0]
        hits.append((labels[mined] == labels).float().mean())
        chance.append((labels[queue] == labels[:, None]).float().mean())
    return 100 * torch.stack(hits).mean().item(), 100 * torch.stack(chance).mean().item()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", type=Path, nargs="+")
    parser.add_argument("--out", type=Path, default=Path("docs/results"))
    args = parser.parse_args()
    started = time.perf_counter()
    rows, lines = [], []
    common = {**provenance(), "protocol": "mining precision", "metric": "top1",
              "paper": None, "seeds": [], "std": None}
    for run_dir in args.runs:
        embedded, labels, queue_size = embeddings(run_dir)
        for guide_name, guide in embedded.items():
            hit, chance = precision(guide, labels, queue_size)
            rows.append({**common, "run": str(run_dir), "guide": guide_name,
                         "queue_size": queue_size, "mean": round(hit, 2),
                         "values": [round(hit, 2)], "chance": round(chance, 2)})
            lines.append(f"| `{run_dir}` | {guide_name} | {hit:.1f} | {chance:.1f} |")
    wall = round(time.perf_counter() - started, 1)
    for row in rows:
        row["wall_time_s"] = wall
    markdown = [
        "# CrosSCLR: precision of the mined positives",
        "",
        f"Command: `{common['command']}` · commit `{common['commit']}` · machine: "
        f"{common['machine']} · wall time {wall} s · {DRAWS} random queues per query (seed 0).",
        "",
        "Each training sequence (no augmentation, encoders in eval mode) queries a random queue "
        "of the run's size drawn from the other training sequences; the mined positive is the "
        "entry most similar in the guiding stream's embedding. Precision = % of mined "
        "positives with the query's action; chance = % of queue entries with it. A stream "
        "guides its partners in cross-view mining and itself in single-view mining.",
        "",
        "| run | guiding stream | precision | chance |",
        "|---|---|---|---|",
        *lines,
    ]
    write_results(args.out, "crossclr-mining-precision", rows, markdown)


if __name__ == "__main__":
    main()
