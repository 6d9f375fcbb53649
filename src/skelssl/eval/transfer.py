"""Transfer: an encoder pretrained on one dataset, evaluated on another (ISC, ActCLR, CRRL).

The target must be in the layout and coordinate count the encoder reads; a dataset in another
layout is mapped first (``skelssl prepare relayout``). Linear (frozen encoder, ActCLR's
protocol) or finetune (ISC's and CRRL's), on the target's benchmark; results go to
``results/transfer-<target>-...`` of the pretrained run.
"""

from __future__ import annotations

import json
from pathlib import Path

from skelssl.data.dataset import PreparedDataset
from skelssl.engine.encoder_file import read_encoder_file
from skelssl.engine.run_dir import final_stage_dir
from skelssl.errors import EvalError
from skelssl.eval.protocol import linear_probe, load_run

PROTOCOLS = ("linear", "finetune")


def check_target(run_dir: str | Path, target: str | Path) -> PreparedDataset:
    """The target dataset, when every encoder of the run can read it."""
    data = PreparedDataset.open(target)
    file = read_encoder_file(final_stage_dir(Path(run_dir)))
    for name, description in file.descriptions(data).items():
        joints = tuple(j for j, _ in description["layout"]["joints"])
        scores = bool(description["layout"].get("scores", False))
        if scores != data.layout.scores:
            raise EvalError(
                f"{target}: {'a' if data.layout.scores else 'no'} keypoint confidence channel, "
                f"but encoder {name!r} was trained {'with' if scores else 'without'} one; "
                "prepare the target " + ("with" if scores else "without") + " --scores")
        if joints != data.layout.joint_names or description["in_channels"] != data.channels:
            raise EvalError(
                f"{target}: layout {data.layout.name!r} ({data.layout.num_joints} joints, "
                f"C = {data.channels}), but encoder {name!r} reads "
                f"{description['layout']['name']!r} ({len(joints)} joints, C = "
                f"{description['in_channels']}); map the target first: skelssl prepare "
                f"relayout --raw {target} --layout {description['layout']['name']} --out DIR")
    return data


def transfer_linear(run_dir: str | Path, target: str | Path, stream: str, preset: str,
                    benchmark: str | None = None, weights: str = "trained", seed: int = 0
                    ) -> tuple[dict, Path]:
    """The linear protocol on a target that passed :func:`check_target`; returns the result
    and where it was written."""
    run = load_run(run_dir, weights, str(target), benchmark=benchmark)
    if stream not in run.encoders:
        raise EvalError(f"{run_dir}: no encoder {stream!r}; this run has {sorted(run.encoders)}")
    result = {**linear_probe(run, stream, preset, seed), "protocol": "transfer-linear",
              "target": str(target)}
    path = run.run_dir / "results" / (f"transfer-{Path(target).name}-linear-{preset}-"
                                      f"{weights}-{stream}.json")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({k: v for k, v in result.items() if k != "logits"}, indent=1))
    return result, path
