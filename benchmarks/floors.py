"""The floors every learned representation must beat: raw coordinates and random weights.

For each config (optionally followed by comma-separated overrides):

- raw coordinates: the sequences preprocessed exactly as the config's runs see them (its
  `data` section; resized to 50 frames when the config keeps variable lengths), flattened,
  and evaluated like an encoder's features: 1-NN (cosine), the linear probe, and the linear
  probe on 10 % of the labels (mean over draws). No encoder, no training; deterministic.
- random weights: the config's encoders at a seeded random initialisation (one 0-epoch run per
  seed under --runs, BatchNorm statistics estimated on the training inputs), every encoder of
  the run, by the same three protocols; mean ± std over seeds.

Writes docs/results/floors-<dataset>.{json,md} (or ``--topic``'s page: the leaderboard reads
every floors page it lists). From the repository root, after
`skelssl prepare nw-ucla --raw .../all_sqe --out data/nw-ucla`:

    python benchmarks/floors.py configs/skeletonclr/nw-ucla.yaml configs/crrl/nw-ucla-cml.yaml \
        configs/crossclr/nw-ucla-lstm.yaml --raw "configs/crrl/nw-ucla-ser.yaml,data.view_axes=hips"
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import time
from pathlib import Path

import numpy as np
import torch
from results import provenance, setting_name, split_items, summary, write_results

from skelssl.config import RunConfig, apply_overrides, load_config, read_yaml
from skelssl.data.dataset import PreparedDataset, label_fraction_indices
from skelssl.engine.assembly import preprocess_for
from skelssl.engine.trainer import pretrain
from skelssl.eval.knn import knn_predict
from skelssl.eval.linear import get_preset, train_linear
from skelssl.eval.metrics import top1
from skelssl.eval.protocol import LoadedRun, knn_eval, linear_probe, load_run
from skelssl.eval.semi import semi_supervised

FRAMES = 50
FRACTION = 0.1
PROTOCOLS = ("linear", "knn", "semi")  # the order of the table's columns


def parse_spec(spec: str) -> tuple[Path, list[str]]:
    path, *overrides = split_items(spec)
    return Path(path), overrides


def raw_features(config: RunConfig) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]]:
    """Flattened preprocessed coordinates and labels of the train and test splits."""
    data_config = config.data
    if not data_config.frames:
        data_config = dataclasses.replace(data_config, frames=FRAMES)
    data = PreparedDataset.open(data_config.path)
    preprocess = preprocess_for(data_config, data.layout)
    features, labels = {}, {}
    for split in ("train", "test"):
        index = data.indices(data_config.benchmark, getattr(data_config, f"{split}_split"))
        x = torch.from_numpy(np.array(data.joints[index], dtype=np.float32))
        x, _ = preprocess(x, torch.from_numpy(np.asarray(data.lengths[index])))
        features[split] = x.flatten(1)
        labels[split] = torch.from_numpy(np.asarray(data.labels[index], dtype=np.int64))
    return features, labels


def probe(features: dict[str, torch.Tensor], labels: dict[str, torch.Tensor], preset: str,
          positions: torch.Tensor | None = None) -> float:
    """Final-epoch top-1 of the linear ``preset`` on (a subset of) the training features."""
    train, train_labels = features["train"], labels["train"]
    if positions is not None:
        train, train_labels = train[positions], train_labels[positions]
    classes = int(labels["train"].max()) + 1
    return train_linear(lambda p: train[p], train_labels, lambda p: features["test"][p],
                        labels["test"], train.shape[1], classes, get_preset(preset))["top1"]


def raw_floor(config: RunConfig, preset: str, draws: int) -> dict[str, dict]:
    """1-NN, linear and 10 %-label linear on raw coordinates."""
    features, labels = raw_features(config)
    nearest = knn_predict(features["train"], labels["train"], features["test"], 1,
                          int(labels["train"].max()) + 1)
    fraction = [probe(features, labels, preset, torch.from_numpy(
        label_fraction_indices(labels["train"].numpy(), FRACTION, draw))) for draw in range(draws)]
    return {"knn": {"values": [top1(nearest, labels["test"])]},
            "linear": {"values": [probe(features, labels, preset)]},
            "semi": {"values": [statistics.mean(fraction)], "draws": draws}}


def random_run(values: dict, run_dir: Path, split: str = "test",
               where: str | None = None) -> LoadedRun:
    """A config's encoders at their seeded initialisation, from a 0-epoch run in ``run_dir``
    (made the first time)."""
    if not (run_dir / "encoder.pt").is_file():
        config = load_config(values, ["train.epochs=0"], where=where)
        pretrain(config, run_dir, progress=False)
    return load_run(run_dir, "random", split=split)


def random_floor(path: Path, overrides: list[str], seeds: list[int], runs: Path, preset: str,
                 draws: int) -> dict[tuple[str, str], list[float]]:
    """(stream, protocol) → per-seed top-1 of the config's encoders at random weights."""
    scores: dict[tuple[str, str], list[float]] = {}
    setting = setting_name([path.parent.name, path.stem, *overrides])
    for seed in seeds:
        run = random_run(apply_overrides(read_yaml(path), [*overrides, f"seed={seed}"]),
                         runs / f"{setting}-seed{seed}")  # a stream is an override too
        for stream in run.encoders:
            semi = semi_supervised(run, stream, preset, (FRACTION,), draws, progress=False)
            for protocol, value in (("linear", linear_probe(run, stream, preset,
                                                            progress=False)["top1"]),
                                    ("knn", knn_eval(run, stream, 1, 0.1)["top1"]),
                                    ("semi", semi["fractions"][0]["mean"])):
                scores.setdefault((stream, protocol), []).append(value)
    return scores


def protocol_fields(protocol: str, preset: str, draws: int) -> dict:
    if protocol == "knn":
        return {"protocol": "knn", "k": 1}
    if protocol == "linear":
        return {"protocol": "linear", "preset": preset}
    return {"protocol": "semi", "preset": preset, "label_fraction": FRACTION, "draws": draws}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("configs", nargs="*", help="CONFIG[,KEY=VALUE,...]: raw and random")
    parser.add_argument("--raw", nargs="*", default=[], help="CONFIG[,...]: raw coordinates only")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--preset", default="crrl-std", help="the dataset's linear probe")
    parser.add_argument("--draws", type=int, default=3, help="draws of the 10 %% labels")
    parser.add_argument("--dataset", default="nw-ucla")
    parser.add_argument("--runs", type=Path, default=Path("runs/floors"))
    parser.add_argument("--out", type=Path, default=Path("docs/results"))
    parser.add_argument("--topic", default=None,
                        help="the page to write (default floors-DATASET); another topic adds "
                             "floors of new configs without measuring the earlier ones again")
    args = parser.parse_args()
    topic = args.topic or f"floors-{args.dataset}"
    started = time.perf_counter()
    rows, lines = [], []
    for spec in [*args.configs, *args.raw]:
        path, overrides = parse_spec(spec)
        config = load_config(path, overrides)
        base = {"dataset": args.dataset, "split": config.data.benchmark, "metric": "top1",
                "epoch": "final", "paper": None, "config": str(path), "overrides": overrides,
                "preprocessing": dataclasses.asdict(config.data)}
        shown = f"`{path}` {' '.join(overrides)}".strip()
        raw = raw_floor(config, args.preset, args.draws)
        for protocol, result in raw.items():
            rows.append({**base, "variant": "raw coordinates", "encoder": None,
                         "stream": "joint", "seeds": [],
                         **protocol_fields(protocol, args.preset, args.draws),
                         **summary(result["values"])})
        lines.append(f"| {shown} | raw coordinates | | " + " | ".join(
            f"{raw[p]['values'][0]:.1f}" for p in PROTOCOLS) + " |")
        if spec not in args.configs:
            continue
        sections = config.encoder_sections()
        names = {slot: section.name for slot, section in sections.items()}
        scores = random_floor(path, overrides, args.seeds, args.runs, args.preset, args.draws)
        for (stream, protocol), values in scores.items():
            rows.append({**base, "variant": "random weights", "encoder": names,
                         "stream": stream, "seeds": args.seeds,
                         **protocol_fields(protocol, args.preset, args.draws),
                         **summary(values)})
        for stream in dict.fromkeys(stream for stream, _ in scores):
            cells = [summary(scores[(stream, protocol)]) for protocol in PROTOCOLS]
            encoder = names.get(stream) or "+".join(names.values())  # a slot or a stream
            lines.append(f"| {shown} | random {encoder} | {stream} | " +
                         " | ".join(f"{c['mean']:.1f} ± {c['std']:.1f}" if c["std"] is not None
                                    else f"{c['mean']:.1f}" for c in cells) + " |")
    common = {**provenance(), "wall_time_s": round(time.perf_counter() - started, 1)}
    for row in rows:
        row.update(common)
    markdown = [
        f"# Floors on {args.dataset}: raw coordinates and random weights",
        "",
        f"Command: `{common['command']}` · commit `{common['commit']}` · machine: "
        f"{common['machine']} · wall time {common['wall_time_s']} s · random weights over "
        f"seeds {args.seeds}; raw coordinates are deterministic.",
        "",
        "What a learned representation must beat, by the protocols the leaderboard uses: "
        f"linear = `{args.preset}` probe, final epoch; 1-NN = cosine nearest neighbour; 10 % = "
        f"the same probe on a class-balanced 10 % of the training labels, mean over "
        f"{args.draws} draws. Raw coordinates: each config's preprocessed sequences (resized "
        f"to {FRAMES} frames when the config keeps variable lengths), flattened. Random "
        "weights: the config's encoders at a seeded initialisation (BatchNorm statistics "
        "estimated on the training inputs, no labels), mean ± std over seeds.",
        "",
        "| config | floor | stream | linear | 1-NN | 10 % labels |",
        "|---|---|---|---|---|---|",
        *lines,
    ]
    write_results(args.out, topic, rows, markdown)


if __name__ == "__main__":
    main()
