"""How far apart are CML's keys? The contrastive task CRRL's first stage can learn at all.

CML contrasts a query encoder on the coordinates with a momentum key encoder on their velocity,
with a temperature of 0.1 and 64 queued negatives. If the keys of different sequences point in
nearly the same direction, even a query that knows its key exactly can hardly single it out and
the loss stays near chance, ln(65) = 4.17. For each CML run this measures, on the training
split, the keys of three key inputs — the coordinates, their velocity, and the velocity min-max
scaled per sample, person and axis (``method.velocity_minmax``) — with the key encoder and key
MLP at their seeded initialisation and after training (last.pt): mean |input|, mean and minimum
cosine between the keys of different sequences, and the InfoNCE of an oracle query (its own key
less the mean key) against 64 other keys. Writes docs/results/crrl-key-spread.{json,md}. From
the repository root:

    python benchmarks/crrl_key_spread.py runs/crrl-nw-ucla/CRRL-seed0/cml
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
from skelssl.transforms.normalize import minmax_normalize
from skelssl.transforms.streams import velocity

NEGATIVES = 64
TEMPERATURE = 0.1
METRICS = ("mean_abs_input", "key_cosine_mean", "key_cosine_min", "oracle_query_infonce")


def key_inputs(x: torch.Tensor, lengths: torch.Tensor) -> dict[str, torch.Tensor]:
    """The key encoder's candidate inputs."""
    v = velocity(x, lengths)
    return {"coordinates": x, "velocity": v,
            "velocity, min-max scaled": minmax_normalize(v, lengths)}


def oracle_query_infonce(keys: torch.Tensor) -> float:
    """Mean InfoNCE against NEGATIVES other keys (groups of NEGATIVES + 1) of an oracle query:
    its own key with the mean key removed, normalised (the direction all keys share cannot
    tell them apart)."""
    queries = F.normalize(keys - keys.mean(dim=0), dim=1)
    size = NEGATIVES + 1
    usable = len(keys) // size * size
    losses = [F.cross_entropy(q @ k.T / TEMPERATURE, torch.arange(size))
              for q, k in zip(queries[:usable].split(size), keys[:usable].split(size),
                              strict=True)]
    return torch.stack(losses).mean().item()


def spread(method: torch.nn.Module, inputs: torch.Tensor, lengths: torch.Tensor) -> dict:
    """Cosine statistics of the keys of ``inputs`` and an oracle query's InfoNCE."""
    with torch.no_grad():
        keys = F.normalize(method.mlp_k(method.encoder_k(inputs, lengths)), dim=1)
    cosine = keys @ keys.T
    others = cosine[~torch.eye(len(keys), dtype=torch.bool)]
    _, c, _, v, m = inputs.shape
    values = lengths.sum().item() * c * v * m  # padded frames are zero and not counted
    return {"mean_abs_input": round(inputs.abs().sum().item() / values, 4),
            "key_cosine_mean": round(others.mean().item(), 4),
            "key_cosine_min": round(others.min().item(), 4),
            "oracle_query_infonce": round(oracle_query_infonce(keys), 3)}


def measure(run_dir: Path) -> list[dict]:
    """Rows for one CML run: initial and trained keys of every key input."""
    config = load_config(run_dir / "config.yaml")
    data = PreparedDataset.open(config.data.path)
    index = data.indices(config.data.benchmark, config.data.train_split)
    x = torch.from_numpy(np.array(data.joints[index], dtype=np.float32))
    x, lengths = preprocess_for(config.data, data.layout)(
        x, torch.from_numpy(np.asarray(data.lengths[index])))
    torch.manual_seed(config.seed)  # the initialisation the run started from
    method = build_run_method(config, data).eval()
    rows = []
    for weights in ("initial", "trained"):
        if weights == "trained":
            method.load_state_dict(load_checkpoint(run_dir / "last.pt")["method"])
        for name, inputs in key_inputs(x, lengths).items():
            rows.append({"run": str(run_dir), "dataset": Path(config.data.path).name,
                         "split": f"{config.data.benchmark}/{config.data.train_split}",
                         "weights": weights, "key_input": name,
                         "velocity_minmax_run": config.method.velocity_minmax,
                         **spread(method, inputs, lengths)})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", type=Path, help="CML run directories")
    parser.add_argument("--out", type=Path, default=Path("docs/results"))
    args = parser.parse_args()
    started = time.perf_counter()
    torch.set_num_threads(1)  # bit-identical numbers on any machine's thread count
    measured = [row for run in args.runs for row in measure(run)]
    common = {**provenance(), "method": "crrl", "protocol": "key spread", "seeds": [],
              "paper": None, "wall_time_s": round(time.perf_counter() - started, 1)}
    rows = [{**common, **{k: v for k, v in m.items() if k not in METRICS}, "metric": metric,
             "mean": m[metric], "std": None, "values": [m[metric]]}
            for m in measured for metric in METRICS]
    chance = np.log(NEGATIVES + 1)
    lines = [f"| `{r['run']}` | {r['weights']} | {r['key_input']} | {r['mean_abs_input']:.3f} | "
             f"{r['key_cosine_mean']:.4f} | {r['key_cosine_min']:.3f} | "
             f"{r['oracle_query_infonce']:.2f} |" for r in measured]
    markdown = [
        "# CRRL: how far apart CML's keys are",
        "",
        f"Command: `{common['command']}` · commit `{common['commit']}` · machine: "
        f"{common['machine']} · wall time {common['wall_time_s']} s · initial weights from "
        "each run's seed.",
        "",
        "Training split of each run's data, preprocessed as the run saw it. Key cosine: between "
        "the keys (key encoder + key MLP, L2-normalised) of different sequences. Oracle-query "
        f"InfoNCE: the loss, against {NEGATIVES} other keys at τ {TEMPERATURE}, of a query that "
        "knows its own key exactly (the key minus the mean key, normalised) — about as low as "
        f"CML's loss can go with these keys; chance is ln({NEGATIVES + 1}) = {chance:.2f}. "
        "A run's own key input is the velocity, scaled when `velocity_minmax` is set.",
        "",
        "| run | weights | key input | mean abs input | key cosine, mean | key cosine, min | "
        "oracle-query InfoNCE |",
        "|---|---|---|---|---|---|---|",
        *lines,
    ]
    write_results(args.out, "crrl-key-spread", rows, markdown)


if __name__ == "__main__":
    main()
