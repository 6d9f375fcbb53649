"""The encoder cost table: parameters and forward + backward time of every encoder at the widths
skelssl's configs use, at NW-UCLA and NTU shapes — the table to read when choosing an encoder.

Each encoder is built as a config section would build it, put in training mode, and timed on
random batches of 64 sequences of 50 frames (NW-UCLA: 20 joints, 1 person; NTU: 25 joints,
2 persons): forward, sum of the features, backward; the median over repeats after warm-up.
Writes docs/results/encoders.{json,md}. From the repository root:

    python benchmarks/encoders.py
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import torch
from results import provenance, write_results

from skelssl.models import ENCODERS, build_encoder
from skelssl.schema import named_section
from skelssl.skeleton import load_layout

SHAPES = {"NW-UCLA": ("ucla20", 1), "NTU": ("ntu25", 2)}
BATCH, FRAMES = 64, 50
# label → (encoder section, where it is used)
ENTRIES = {
    "ST-GCN 1/4": ({"name": "stgcn", "hidden_channels": 16}, "SkeletonCLR, CrosSCLR configs"),
    "ST-GCN full": ({"name": "stgcn", "hidden_channels": 64}, "reference"),
    "2s-AGCN 1/4": ({"name": "agcn", "base_channels": 16}, "SkeletonCLR with AGCN"),
    "2s-AGCN full": ({"name": "agcn", "base_channels": 64}, "ISC's graph encoder"),
    "BiGRU 2×256 (CRRL)": ({"name": "bigru", "hidden_size": 256, "layers": 2}, "CRRL configs"),
    "BiLSTM 2×128": ({"name": "bilstm", "hidden_size": 128, "layers": 2},
                     "CrosSCLR BiLSTM config"),
    "BiGRU 3×256 (ISC, 1/4 width)": ({"name": "bigru", "hidden_size": 256, "layers": 3,
                                      "pooling": "last"}, "SkeletonCLR with the ISC BiGRU"),
    "BiGRU 3×1024 (ISC)": ({"name": "bigru", "hidden_size": 1024, "layers": 3,
                            "pooling": "last"}, "ISC's sequence encoder"),
    "HCN (ISC, 4096-d)": ({"name": "hcn"}, "ISC's image encoder"),
    "ResNet-18 1/4": ({"name": "resnet", "depth": 18, "base_channels": 16},
                      "SkeletonCLR with ResNet-18"),
    "ResNet-18": ({"name": "resnet", "depth": 18}, "ViewCLR's image encoder"),
    "ResNet-50": ({"name": "resnet", "depth": 50}, "ViewCLR's deeper variant"),
}


def time_step(encoder: torch.nn.Module, x: torch.Tensor, repeats: int) -> float:
    """Median milliseconds of forward + backward on ``x``."""
    times = []
    for i in range(repeats + 1):
        started = time.perf_counter()
        encoder(x).sum().backward()
        if i:  # the first call warms up
            times.append((time.perf_counter() - started) * 1000)
        encoder.zero_grad(set_to_none=True)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--only", nargs="*", default=None, help="labels to measure")
    parser.add_argument("--out", type=Path, default=Path("docs/results"))
    args = parser.parse_args()
    started = time.perf_counter()
    rows, lines = [], []
    for label, (section, used) in ENTRIES.items():
        if args.only and label not in args.only:
            continue
        config = named_section(ENCODERS, section, label, "encoder")
        cells = []
        for shape, (layout, persons) in SHAPES.items():
            torch.manual_seed(0)
            encoder = build_encoder(config, layout=load_layout(layout), in_channels=3,
                                    persons=persons).train()
            x = torch.randn(BATCH, 3, FRAMES, load_layout(layout).num_joints, persons)
            parameters = sum(p.numel() for p in encoder.parameters())
            ms = time_step(encoder, x, args.repeats)
            common = {"variant": label, "encoder": section, "dataset": shape,
                      "batch": BATCH, "frames": FRAMES, "seeds": [0], "paper": None,
                      "std": None, "feature_dim": encoder.feature_dim}
            rows += [{**common, "protocol": "encoder", "metric": "parameters",
                      "mean": parameters, "values": [parameters]},
                     {**common, "protocol": "encoder", "metric": "forward_backward_ms",
                      "mean": round(ms, 1), "values": [round(ms, 1)]}]
            cells += [f"{parameters / 1e6:.2f} M", f"{ms:,.0f}"]
            print(f"{label} {shape}: {parameters} parameters, {ms:.0f} ms", flush=True)
        lines.append(f"| {label} | {encoder.feature_dim} | " + " | ".join(cells) +
                     f" | {used} |")
    common = {**provenance(), "wall_time_s": round(time.perf_counter() - started, 1)}
    for row in rows:
        row.update(common)
    markdown = [
        "# Encoders: size and speed",
        "",
        f"Command: `{common['command']}` · commit `{common['commit']}` · machine: "
        f"{common['machine']} · wall time {common['wall_time_s']} s.",
        "",
        f"Training mode, random batches of {BATCH} sequences of {FRAMES} frames; time = "
        f"forward, sum of the features, backward, median of {args.repeats} repeats after one "
        "warm-up, in milliseconds per batch. NW-UCLA: 20 joints, 1 person; NTU: 25 joints, "
        "2 persons (folded into the batch by the convolutional encoders; part of each frame "
        "for the recurrent ones). A pretraining step costs about 2× (query) + 1× forward (key) "
        "of this for MoCo methods.",
        "",
        "| encoder | feature | NW-UCLA parameters | NW-UCLA ms | NTU parameters | NTU ms "
        "| used by |",
        "|---|---|---|---|---|---|---|",
        *lines,
    ]
    write_results(args.out, "encoders", rows, markdown)


if __name__ == "__main__":
    main()
