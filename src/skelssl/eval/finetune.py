"""Finetune protocol (docs/training.md): a pretrained encoder and a linear classifier trained end to
end on the labelled training split — or on a class-balanced labelled fraction of it
(semi-supervised finetuning) — then tested on the test split.

Each finetuning is an ordinary training run of the ``supervised`` method inside the pretrained
run (``finetune/<name>/``): checkpoints, exact resume, curves, DDP and AMP come from the
trainer. ``weights="random"`` trains the same architecture from scratch (the supervised
baseline).
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch

from skelssl.config import RunConfig, load_config, to_dict
from skelssl.data.dataset import PreparedDataset
from skelssl.data.loader import loader_workers
from skelssl.engine.assembly import build_run_method, preprocess_for
from skelssl.engine.checkpoint import load_checkpoint, load_strict
from skelssl.engine.distributed import pick_device
from skelssl.engine.encoder_file import read_encoder_file
from skelssl.engine.run_dir import CONFIG_FILE, LAST_CHECKPOINT, final_stage_dir, machine
from skelssl.engine.trainer import pretrain
from skelssl.errors import EvalError
from skelssl.eval.features import extract_features
from skelssl.eval.metrics import confusion_matrix, per_class_top1, top1


@dataclass(frozen=True)
class FinetunePreset:
    """An optimiser on every weight with a step schedule."""

    lr: float
    batch_size: int
    epochs: int
    milestones: tuple[int, ...]
    gamma: float = 0.1
    momentum: float = 0.9
    weight_decay: float = 1e-4
    nesterov: bool = True
    optimizer: str = "sgd"  # sgd | adam


# CrosSCLR / AimCLR: lr 0.1, 100 epochs, ×0.1 after 80, Nesterov SGD, weight decay 1e-4; the
# batch size is not published (skelssl: 64, the pretraining batch of its NW-UCLA configs).
# ISC (semi-supervised finetuning): Adam lr 1e-4, 50 epochs, ×0.1 at 30 and 40, batch 64 (its
# pretraining batch; the paper gives no other), no weight decay named.
FINETUNE_PRESETS = {"crossclr": FinetunePreset(lr=0.1, batch_size=64, epochs=100,
                                               milestones=(80,)),
                    "isc": FinetunePreset(lr=1e-4, batch_size=64, epochs=50, milestones=(30, 40),
                                          weight_decay=0.0, nesterov=False, optimizer="adam")}


def finetune_name(preset: str, weights: str, stream: str, label_fraction: float,
                  draw: int) -> str:
    """``crossclr-trained-joint`` or, on a labelled fraction, ``crossclr-trained-joint-10pct-
    draw0``: the run directory under ``finetune/`` and the results file name."""
    name = f"{preset}-{weights}-{stream}"
    return name if label_fraction >= 1.0 else f"{name}-{100 * label_fraction:g}pct-draw{draw}"


def finetune_config(run_dir: Path, preset_name: str, stream: str, weights: str,
                    label_fraction: float = 1.0, draw: int = 0, augment: bool = False,
                    epochs: int | None = None, device: str = "auto",
                    target: str | None = None, benchmark: str | None = None) -> dict:
    """The supervised run's config: the pretrained run's data (or the ``target`` dataset and
    ``benchmark``, for transfer) and seed, the architecture and input stream of its encoder
    ``stream`` (as ``encoder.pt`` describes it), the preset's optimisation, and that encoder's
    weights as initialisation (none for ``weights="random"``)."""
    if preset_name not in FINETUNE_PRESETS:
        raise EvalError(f"unknown finetune preset {preset_name!r}: expected one of "
                        f"{sorted(FINETUNE_PRESETS)}")
    if weights not in ("trained", "random"):
        raise EvalError(f"weights {weights!r}: expected 'trained' or 'random'")
    preset = FINETUNE_PRESETS[preset_name]
    source = to_dict(load_config(run_dir / CONFIG_FILE))
    if target is not None:
        source["data"] = {**source["data"], "path": target,
                          "benchmark": benchmark or source["data"]["benchmark"]}
    data = PreparedDataset.open(source["data"]["path"])
    descriptions = read_encoder_file(run_dir).descriptions(data)
    if stream not in descriptions:
        raise EvalError(f"{run_dir}: no encoder {stream!r}; this run has {sorted(descriptions)}")
    encoder = descriptions[stream]
    train = {"epochs": preset.epochs if epochs is None else epochs,
             "batch_size": preset.batch_size, "lr": preset.lr, "momentum": preset.momentum,
             "weight_decay": preset.weight_decay, "nesterov": preset.nesterov,
             "optimizer": preset.optimizer, "schedule": "step", "gamma": preset.gamma,
             "warmup_epochs": 0.0,
             "milestones": list(preset.milestones), "label_fraction": label_fraction,
             "label_draw": draw, "device": device, "amp": source["train"]["amp"]}
    labelled = data.subset(source["data"]["benchmark"], source["data"]["train_split"],
                           label_fraction, draw)
    train["batch_size"] = min(train["batch_size"], len(labelled))  # a batch on tiny fractions
    method = {"name": "supervised", "num_classes": data.num_classes,
              "stream": encoder["stream"], "init": str(run_dir) if weights == "trained" else None,
              "init_stream": stream, "augment": augment}
    return {"method": method, "encoder": encoder["encoder"],
            "data": {**source["data"], "persons": encoder["persons"]}, "train": train,
            "eval": source["eval"], "seed": source["seed"]}


def encoder_names(run_dir: str | Path) -> list[str]:
    """The encoders a pretrained run evaluates (e.g. joint, motion, bone)."""
    return list(read_encoder_file(final_stage_dir(Path(run_dir))).states)


def finetune(run_dir: str | Path, preset: str = "crossclr", stream: str = "joint",
             weights: str = "trained", label_fraction: float = 1.0, draw: int = 0,
             augment: bool = False, epochs: int | None = None, device: str = "auto",
             progress: bool = True, target: str | None = None, benchmark: str | None = None
             ) -> dict:
    """Finetune (or resume finetuning) one encoder of a pretrained run, then test it; with
    ``target``, on another prepared dataset (transfer, ``transfer-<target>-...`` names).

    Returns the result (final epoch): top-1, predictions, top-1 per class, the supervised run's
    directory and training curve.
    """
    started = time.perf_counter()
    names = encoder_names(run_dir)
    run_dir = final_stage_dir(Path(run_dir))
    if stream not in names:
        raise EvalError(f"{run_dir}: no encoder {stream!r}; this run has {sorted(names)}")
    source = load_config(run_dir / CONFIG_FILE)
    name = finetune_name(preset, weights, stream, label_fraction, draw)
    if target is not None:
        name = f"transfer-{Path(target).name}-{name}"
    out = run_dir / "finetune" / name
    config = load_config(finetune_config(run_dir, preset, stream, weights, label_fraction,
                                         draw, augment, epochs, device, target, benchmark))
    history = pretrain(config, out, resume=True, progress=progress)
    data = PreparedDataset.open(config.data.path)
    predictions, labels = _test_predictions(config, data, out, pick_device(device))
    return {"protocol": "finetune" if target is None else "transfer-finetune",
            "method": source.method.name, "stream": stream,
            "weights": weights, "preset": preset, "settings": asdict(FINETUNE_PRESETS[preset]),
            "epochs": config.train.epochs, "batch_size": config.train.batch_size,
            "augment": augment, "label_fraction": label_fraction,
            "label_draw": draw if label_fraction < 1 else None,
            "train_samples": len(data.subset(config.data.benchmark, config.data.train_split,
                                             label_fraction, draw)),
            "dataset": str(config.data.path), "benchmark": config.data.benchmark,
            "train_split": config.data.train_split, "test_split": config.data.test_split,
            "pretrain_seed": source.seed, "finetune_run": str(out), "epoch": "final",
            "top1": top1(predictions, labels), "predictions": predictions.tolist(),
            "per_class_top1": per_class_top1(
                confusion_matrix(labels, predictions, data.num_classes), data.class_names),
            "train_loss": [row["loss"] for row in history],
            "train_top1": [row["train_top1"] for row in history],
            "machine": machine(), "wall_time_s": time.perf_counter() - started}


def write_finetune_result(result: dict) -> Path:
    """``results/finetune-<name>.json`` in the pretrained run the result comes from."""
    out = Path(result["finetune_run"])
    path = out.parent.parent / "results" / f"finetune-{out.name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=1))
    return path


def _test_predictions(config: RunConfig, data: PreparedDataset, run_dir: Path,
                      device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    """Predicted and true labels of the test split by the supervised run's final weights."""
    model = build_run_method(config, data)
    load_strict(model, load_checkpoint(run_dir / LAST_CHECKPOINT)["method"],
                str(run_dir / LAST_CHECKPOINT))
    index = data.indices(config.data.benchmark, config.data.test_split)
    logits = extract_features(model.to(device), data, index,
                              preprocess_for(config.data, data.layout), device,
                              config.eval.batch_size, loader_workers(config.data.workers, device))
    labels = torch.from_numpy(np.asarray(data.labels[index], dtype=np.int64))
    return logits.argmax(dim=1), labels
