"""Does an ISC run tell sequences apart? Each representation's queries against each one's keys.

For each state (a run's last checkpoint, or a config's random initialisation with the key
encoders copied from the query encoders) and each ordered pair (a, b) of its representations
(a = b: within one representation, as intra-skeleton MoCo; a ≠ b: the cross-contrast), over
the run's training split in fixed batches of ``--batch`` sequences, two ISC augmentations of
each, query q_a of one view against key k_b of the other (BatchNorm in training mode, as in
training):

- own key top-1: how often q_a's most similar key of the batch is its own sequence's
  (chance 1/batch), and the gap: cosine with the own key minus the mean with the others;
- the cosine with the own key minus the mean with b's queue (the negatives training sees),
  and InfoNCE against that queue beside ln(K + 1), its value when nothing is told apart.

A loss under ln(K + 1) with top-1 at chance and no gap means training tells the queue's keys
apart from the batch's by their age (the key encoder has moved since they were queued), not the
sequences by their content. Writes docs/results/<topic>.{json,md}. From the repository root:

    python benchmarks/isc_instance_signal.py --state "init=init:configs/isc/nw-ucla-quarter.yaml" \\
        --state "inter, lr 0.01=runs/recipe-val/isc-lr0.01-seed0"
"""

from __future__ import annotations

import argparse
import math
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from results import page_arguments, provenance, split_items, write_results

from skelssl.config import RunConfig, load_config
from skelssl.data.dataset import PreparedDataset
from skelssl.data.loader import batch_loader
from skelssl.engine.assembly import build_run_method, preprocess_for
from skelssl.engine.checkpoint import load_checkpoint
from skelssl.engine.run_dir import CONFIG_FILE, LAST_CHECKPOINT
from skelssl.losses import infonce_of_logits, moco_logits
from skelssl.methods.collapse import key_identification
from skelssl.methods.isc import ISC


def load_state(source: str) -> tuple[RunConfig, ISC, int, bool]:
    """(config, method, epoch, trained) of ``init:CONFIG[,KEY=VALUE...]`` or a run directory."""
    trained = not source.startswith("init:")
    if trained:
        config = load_config(Path(source) / CONFIG_FILE)
    else:
        path, *overrides = split_items(source.removeprefix("init:"))
        config = load_config(path, overrides)
    torch.manual_seed(config.seed)
    method = build_run_method(config, PreparedDataset.open(config.data.path))
    if trained:
        state = load_checkpoint(Path(source) / LAST_CHECKPOINT)
        method.load_state_dict(state["method"])
        return config, method, int(state["epoch"]), True
    for name in method.encoders_q:  # what training starts from (on_train_start)
        method.encoders_k[name].load_state_dict(method.encoders_q[name].state_dict())
        method.heads_k[name].load_state_dict(method.heads_q[name].state_dict())
    return config, method, 0, False


@torch.no_grad()
def pair_signals(config: RunConfig, method: ISC, batch: int, seed: int,
                 trained: bool) -> dict[tuple[str, str], dict[str, float]]:
    """The measurements of every ordered pair, averaged over the training split's batches."""
    data = PreparedDataset.open(config.data.path)
    index = data.subset(config.data.benchmark, config.data.train_split).index
    order = np.random.default_rng(seed).permutation(index)
    batches = [np.sort(order[start:start + batch])
               for start in range(0, len(order) - batch + 1, batch)]
    preprocess = preprocess_for(config.data, data.layout)
    generator = torch.Generator().manual_seed(seed)
    method.train()
    names = list(method.encoders_q)
    sums: dict[tuple[str, str], dict[str, float]] = {}
    for x, lengths, _ in batch_loader(data, batches):
        x, lengths = preprocess(x, lengths)
        view_q, lengths_q = method.augment(x, lengths, generator)
        view_k, lengths_k = method.augment(x, lengths, generator)
        q = {n: F.normalize(method.heads_q[n](method.encoders_q[n](view_q, lengths_q)), dim=1)
             for n in names}
        k = {n: F.normalize(method.heads_k[n](method.encoders_k[n](view_k, lengths_k)), dim=1)
             for n in names}
        for a in names:
            for b in names:
                found = {key: value.item() for key, value in key_identification(q[a], k[b]).items()}
                if trained:  # [q·k⁺, q·queue] as training computes them
                    logits = moco_logits(q[a], k[b], method.queue(b).keys)
                    found["queue_gap"] = (logits[:, 0] - logits[:, 1:].mean(dim=1)).mean().item()
                    found["queue_infonce"] = infonce_of_logits(
                        logits, config.method.temperature).item()
                pair = sums.setdefault((a, b), {})
                for key, value in found.items():
                    pair[key] = pair.get(key, 0.0) + value / len(batches)
    return sums


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--state", action="append", required=True, metavar="LABEL=SOURCE",
                        help="SOURCE: a run directory, or init:CONFIG[,KEY=VALUE...]")
    parser.add_argument("--batch", type=int, default=256, help="sequences per batch")
    parser.add_argument("--seed", type=int, default=0, help="batches and augmentations")
    page_arguments(parser, "isc-instance-signal-nw-ucla")
    args = parser.parse_args()
    started = time.perf_counter()
    common = provenance()
    rows, table = [], []
    for spec in args.state:
        label, _, source = spec.partition("=")
        config, method, epoch, trained = load_state(source)
        chance = math.log(config.method.queue_size + 1)
        for (a, b), found in pair_signals(config, method, args.batch, args.seed,
                                          trained).items():
            rows.append({"state": label, "source": source, "epoch": epoch, "query": a,
                         "key": b, "batch": args.batch, "chance_top1": 1 / args.batch,
                         "chance_infonce": chance, **found})
            queue = (f"{found['queue_gap']:.4f} | {found['queue_infonce']:.2f} / {chance:.2f}"
                     if trained else "– | –")
            table.append(f"| {label} | {epoch} | q {a} · k {b} | {100 * found['top1']:.1f} | "
                         f"{found['gap']:.4f} | {queue} |")
    wall = round(time.perf_counter() - started, 1)
    rows = [{**common, **row, "wall_time_s": wall} for row in rows]
    markdown = [
        f"# {args.topic}", "",
        f"Command: `{common['command']}` · commit `{common['commit']}` · machine: "
        f"{common['machine']} · wall time {wall} s. {args.note}", "",
        f"Over each state's training split in batches of {args.batch} sequences (seed "
        f"{args.seed}), two ISC augmentations of each; q a · k b: the queries of "
        "representation a against the keys of b. Own key top-1: % of queries whose most "
        "similar key of the batch is their own sequence's (chance "
        f"{100 / args.batch:.1f}); gap: cosine with the own key minus the mean with the "
        "batch's other keys; queue gap: the same against the queue of b (the negatives of "
        "training); InfoNCE against that queue / ln(K + 1), its value when nothing is told "
        "apart.", "",
        "| state | epoch | pair | own key top-1 % | gap | queue gap | InfoNCE vs queue |",
        "|---|---|---|---|---|---|---|",
        *table,
    ]
    write_results(args.out, args.topic, rows, markdown)


if __name__ == "__main__":
    main()
