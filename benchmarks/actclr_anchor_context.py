"""ActCLR's static anchor in training: encoded alone or in the views' pass (anchor_context).

In training the key encoder's BatchNorm normalises each pass by that pass's statistics. An
anchor (the batch's mean weak view) encoded alone is normalised by its own, one sequence's; in
the views' pass, by the batch's, as the views it is compared with. For the encoder of a run
(e.g. the AimCLR run stage 2 starts from, whose query encoder becomes both of stage 2's), this
measures on batches of the training split, in training mode, for both contexts: the size of
the anchor's last feature maps beside the views', the cosine of the views' features (the
encoder's, before the new projection head) with the anchor's, and the actionlets (mean, share
of the mass on each map's top half, mean per body part), with how well the two contexts'
actionlets agree. Writes
docs/results/<topic>.{json,md}. From the repository root:

    python benchmarks/actclr_anchor_context.py runs/aimclr/nw-ucla-agcn-seed0
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import cast

import numpy as np
import torch
import torch.nn.functional as F
from results import page_arguments, provenance, summary, write_results

from skelssl.config import RunConfig
from skelssl.data.dataset import PreparedDataset
from skelssl.data.loader import BatchReader
from skelssl.engine.actionlets import top_half
from skelssl.engine.assembly import build_run_method, preprocess_for
from skelssl.engine.pipeline import load_pipeline, stage_configs
from skelssl.engine.trainer import start_fresh
from skelssl.methods.actclr import ActCLR
from skelssl.models.masking import MapEncoder

CONTEXTS = ("alone", "batch")


def stage_two(config_path: Path, run_dir: Path, context: str, data: PreparedDataset
              ) -> ActCLR:
    """ActCLR's stage 2 of ``config_path`` as training starts it (``init``: the run's encoder
    of the stage's stream in both encoders), in training mode, the anchor encoded in
    ``context``."""
    values = load_pipeline(config_path, [f"stages.actclr.method.anchor_context={context}",
                                         f"stages.actclr.method.init={run_dir}"])
    config = dict(stage_configs(values, Path("unused")))["actclr"]
    method = cast(ActCLR, build_run_method(config, data))
    start_fresh(method)
    return method.train()


def stage_config(config_path: Path) -> RunConfig:
    """The config of the pipeline's ActCLR stage (its data section is the one read)."""
    return dict(stage_configs(load_pipeline(config_path, []), Path("unused")))["actclr"]


def measure(method: ActCLR, weak: torch.Tensor) -> dict[str, torch.Tensor | float]:
    """One batch's anchor and actionlet statistics in the method's anchor context."""
    encoder = cast(MapEncoder, method.encoder_k)
    anchor = weak.mean(dim=0, keepdim=True)
    with torch.no_grad():
        view_pass, anchor_pass = method.key_pass(weak, anchor)
        (maps, mask), (anchor_maps, anchor_mask) = view_pass, anchor_pass
        anchor_features = F.normalize(encoder.pool(anchor_maps, anchor_mask, weak.shape[4]),
                                      dim=1)
        features = F.normalize(encoder.pool(maps, mask, weak.shape[4]), dim=1)
    actionlet = method.actionlet_of(view_pass, anchor_pass, weak.shape[4])
    top_share = ((actionlet * top_half(actionlet)).flatten(1).sum(1)
                 / actionlet.flatten(1).sum(1).clamp_min(1e-12))
    return {"mean absolute value of the anchor's last maps": float(anchor_maps.abs().mean()),
            "mean absolute value of the views' last maps": float(maps.abs().mean()),
            "cosine of the views' features with the anchor's":
                float((features @ anchor_features.T).mean()),
            "actionlet mean": float(actionlet.mean()),
            "share of Σ A on each map's top half": float(top_share.mean()),
            "anchor_features": anchor_features[0], "actionlet": actionlet}


def correlation(a: torch.Tensor, b: torch.Tensor) -> float:
    """Mean over maps of the Pearson correlation of two actionlets (maps with no spread
    left out)."""
    values = [np.corrcoef(x.flatten().numpy(), y.flatten().numpy())[0, 1]
              for x, y in zip(a, b, strict=True) if x.std() > 0 and y.std() > 0]
    return float(np.mean(values))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("runs", type=Path, nargs="+", help="runs whose encoder starts stage 2")
    parser.add_argument("--config", type=Path, default=Path("configs/actclr/nw-ucla-agcn.yaml"))
    parser.add_argument("--batches", type=int, default=8, help="training batches per run")
    page_arguments(parser, "actclr-anchor-context-nw-ucla")
    args = parser.parse_args()
    started = time.perf_counter()
    collected: dict[str, list[float]] = {}
    part_means: dict[str, dict[str, list[float]]] = {c: {} for c in CONTEXTS}
    config = stage_config(args.config)
    data = PreparedDataset.open(config.data.path)
    reader = BatchReader(data, [])
    preprocess = preprocess_for(config.data, data.layout)
    train = data.indices(config.data.benchmark, config.data.train_split)
    for run in args.runs:
        methods = {context: stage_two(args.config, run, context, data) for context in CONTEXTS}
        order = np.random.default_rng(config.seed).permutation(train)
        generator = torch.Generator().manual_seed(config.seed)
        for batch in range(args.batches):
            chosen = np.sort(order[batch * 64:(batch + 1) * 64])
            x, lengths, _ = reader.read(chosen)
            weak = methods["batch"].normal(preprocess(x, lengths)[0], generator)
            found = {context: measure(method, weak) for context, method in methods.items()}
            for context, values in found.items():
                for key, value in values.items():
                    if isinstance(value, float):
                        collected.setdefault(f"{key} ({context})", []).append(value)
                per_joint = cast(torch.Tensor, values["actionlet"]).mean(dim=(0, 1))
                for part, joints in data.layout.parts.items():
                    part_means[context].setdefault(part, []).append(
                        float(per_joint[list(joints)].mean()))
            alone, batched = found["alone"], found["batch"]
            collected.setdefault("cosine of the anchor's features alone and in the batch",
                                 []).append(float(cast(torch.Tensor, alone["anchor_features"])
                                                  @ cast(torch.Tensor,
                                                         batched["anchor_features"])))
            collected.setdefault("correlation of the two actionlets", []).append(
                correlation(cast(torch.Tensor, alone["actionlet"]),
                            cast(torch.Tensor, batched["actionlet"])))
    common = {**provenance(), "runs": [str(run) for run in args.runs],
              "batches_per_run": args.batches,
              "wall_time_s": round(time.perf_counter() - started, 1)}
    rows = [{**common, "statistic": name, **summary(values)}
            for name, values in collected.items()]
    rows += [{**common, "statistic": f"actionlet mean on the {part} ({context})",
              **summary(values)}
             for context, parts in part_means.items() for part, values in parts.items()]
    markdown = [
        "# ActCLR: the static anchor encoded alone or with the views",
        "",
        f"Command: `{common['command']}` · commit `{common['commit']}` · machine: "
        f"{common['machine']} · wall time {common['wall_time_s']} s. {args.note}",
        "",
        f"Stage 2 at its start (both encoders = the runs' encoder, training mode), "
        f"{args.batches} training batches of 64 per run, their mean weak view as the anchor; "
        "mean ± std over the batches of every run. `alone`: the anchor in a pass of its own "
        "(BatchNorm: its own statistics); `batch`: in the views' pass.",
        "",
        "| statistic | mean ± std |",
        "|---|---|",
        *[f"| {row['statistic']} | {row['mean']:.3f}"
          + (f" ± {row['std']:.3f}" if row["std"] is not None else "") + " |" for row in rows],
    ]
    write_results(args.out, args.topic, rows, markdown)


if __name__ == "__main__":
    main()
