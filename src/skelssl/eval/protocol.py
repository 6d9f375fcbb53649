"""Evaluation of a run directory: linear probe and kNN per encoder, results as JSON.

Encoders are rebuilt from the descriptions in the run's ``encoder.pt`` (see
:mod:`skelssl.engine.encoder_file`), never by rebuilding the method. ``weights="trained"``
loads their weights; ``weights="epoch-20"`` those the run kept after 20 epochs
(``train.snapshot_epochs``); ``weights="random"`` evaluates the same architecture at a seeded
random initialisation (``torch.manual_seed(run seed)`` before each encoder is built: the
baseline every table should show), with its BatchNorm statistics estimated on the training
inputs so that its features are not vanishing.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from skelssl.config import RunConfig, load_config
from skelssl.data.dataset import FITTING, VALIDATION, PreparedDataset, label_fraction_indices
from skelssl.data.loader import BatchReader, loader_workers
from skelssl.engine.assembly import preprocess_for
from skelssl.engine.checkpoint import save_atomic
from skelssl.engine.distributed import pick_device
from skelssl.engine.encoder_file import load_encoder, read_encoder_file
from skelssl.engine.run_dir import CONFIG_FILE, final_stage_dir, machine
from skelssl.errors import EvalError, RunError
from skelssl.eval.features import (
    assert_unchanged,
    calibrate_batchnorm,
    digest,
    encode,
    extract_features,
    fingerprint,
    freeze,
)
from skelssl.eval.knn import knn_predict
from skelssl.eval.linear import get_preset, train_linear
from skelssl.eval.metrics import confusion_matrix, per_class_top1, top1
from skelssl.eval.retrieval import retrieval_scores
from skelssl.models import encoder_from_description
from skelssl.models.stream_encoder import StreamEncoder
from skelssl.transforms.isc import centre_crop, crop_resize
from skelssl.transforms.preprocess import Preprocess

WEIGHTS = ("trained", "random")
SNAPSHOT_WEIGHTS = "epoch-"  # epoch-N: the encoders a run kept after N epochs
SPLITS = ("test", VALIDATION)


@dataclass
class LoadedRun:
    """A run's config, dataset, frozen encoders and preprocessing."""

    run_dir: Path
    config: RunConfig
    data: PreparedDataset
    encoders: dict[str, StreamEncoder]
    weights: str
    encoder_epoch: int | None
    preprocess: Preprocess
    device: torch.device

    def split(self, name: str) -> np.ndarray:
        return self.data.indices(self.config.data.benchmark, name)


def snapshot_epoch(weights: str) -> int | None:
    """N for ``epoch-N`` weights, None for ``trained`` and ``random``."""
    if weights in WEIGHTS:
        return None
    number = weights.removeprefix(SNAPSHOT_WEIGHTS)
    if not weights.startswith(SNAPSHOT_WEIGHTS) or not number.isdigit():
        raise EvalError(f"weights {weights!r}: expected trained, random or epoch-N (the "
                        "encoders a run kept after N epochs: train.snapshot_epochs)")
    return int(number)


def load_run(run_dir: str | Path, weights: str = "trained", data_path: str | None = None,
             device: str = "auto", split: str = "test", benchmark: str | None = None
             ) -> LoadedRun:
    """A run's config, dataset and frozen encoders, trained or at a random initialisation.

    ``split="val"`` evaluates on the validation split instead of the test split: protocols then
    fit on ``train-val`` and test on ``val`` (see ``PreparedDataset.validation``), so that
    choices made on the result never see the test split. ``data_path`` and ``benchmark``
    evaluate on another prepared dataset with the same layout (e.g. untrimmed sequences).
    """
    epoch = snapshot_epoch(weights)
    if split not in SPLITS:
        raise EvalError(f"split {split!r}: expected one of {', '.join(SPLITS)}")
    run_dir = final_stage_dir(Path(run_dir))
    if not (run_dir / CONFIG_FILE).is_file():
        raise RunError(f"{run_dir}: not a run directory (no {CONFIG_FILE}); give the directory "
                       "`skelssl pretrain` wrote")
    config = load_config(run_dir / CONFIG_FILE)
    if split == VALIDATION:
        config.data.train_split, config.data.test_split = FITTING, VALIDATION
    if data_path is not None:
        config.data.path = data_path
    if benchmark is not None:
        config.data.benchmark = benchmark
    if not Path(config.data.path).is_dir():
        raise RunError(f"{run_dir}: the run's dataset {config.data.path} is not here (paths "
                       "are relative to where you run skelssl); pass --data")
    data = PreparedDataset.open(config.data.path)
    file = read_encoder_file(run_dir, epoch)
    encoders: dict[str, StreamEncoder] = {}
    for name, description in file.descriptions(data).items():
        torch.manual_seed(config.seed)
        encoders[name] = encoder_from_description(description, f"{file.path} [{name}]")
        if weights != "random":
            load_encoder(encoders[name].encoder, file, name)
    target = pick_device(device)
    encoders = {name: freeze(encoder.to(target)) for name, encoder in encoders.items()}
    run = LoadedRun(run_dir, config, data, encoders, weights,
                    None if weights == "random" else file.epoch,
                    preprocess_for(config.data, data.layout), target)
    if weights == "random":
        for encoder in encoders.values():
            calibrate_batchnorm(encoder, data, run.split(config.data.train_split),
                                run.preprocess, target, config.eval.batch_size,
                                loader_workers(config.data.workers, target))
    return run


def cached_features(run: LoadedRun, stream: str, split: str) -> torch.Tensor:
    """Features of one split, cached in ``run_dir/features`` and keyed by the encoder's hash."""
    encoder = run.encoders[stream]
    key = digest(fingerprint(encoder))
    bench = run.config.data.benchmark or "default"
    cache = run.run_dir / "features" / f"{run.weights}-{stream}-{bench}-{split}.pt"
    source = json.dumps({"data": str(Path(run.config.data.path).resolve()),
                         "checksum": run.data.meta.get("checksum"),
                         "preprocess": vars(run.config.data)}, sort_keys=True, default=str)
    stored = _read_cache(cache)
    if stored is not None and stored["encoder"] == key and stored["source"] == source:
        return stored["features"]
    features = extract_features(encoder, run.data, run.split(split), run.preprocess, run.device,
                                run.config.eval.batch_size,
                                loader_workers(run.config.data.workers, run.device),
                                desc=f"features {stream}/{split}")
    save_atomic({"encoder": key, "source": source, "features": features}, cache)
    return features


def _read_cache(path: Path) -> dict | None:
    """A feature cache, or None when there is none or it is damaged (then it is rebuilt)."""
    if not path.is_file():
        return None
    try:
        stored = torch.load(path, map_location="cpu", weights_only=True)
    except Exception:  # a damaged cache is only a cache
        return None
    ok = isinstance(stored, dict) and {"encoder", "source", "features"} <= stored.keys()
    return stored if ok and isinstance(stored["features"], torch.Tensor) else None


def split_labels(run: LoadedRun, split: str) -> torch.Tensor:
    """Labels of a split, in the order of its features."""
    return torch.from_numpy(run.data.labels[run.split(split)].astype(np.int64))


def _cached_features(run: LoadedRun, stream: str, split: str):
    """Look-ups into the split's cached features, moved to the run's device once."""
    table = cached_features(run, stream, split).to(run.device)

    def features(positions: torch.Tensor) -> torch.Tensor:
        return table[positions.to(run.device)]

    return features


def _live_features(run: LoadedRun, stream: str, split: str):
    """Features recomputed by the frozen encoder for each requested batch (no cache)."""
    reader = BatchReader(run.data, [])
    index = run.split(split)

    def features(positions: torch.Tensor) -> torch.Tensor:
        x, lengths, _ = reader.read(index[positions.numpy()])
        return encode(run.encoders[stream], x, lengths, run.preprocess, run.device)

    return features


def feature_mode(preset_name: str, cache: bool) -> str:
    """How a linear probe got its features (recorded with its result)."""
    if get_preset(preset_name).crops:
        return "crops, recomputed every batch"
    return "cached" if cache else "recomputed every epoch"


def _crop_encoder(run: LoadedRun, stream: str, split: str, crop):
    """Features of the split's samples at the given positions, each batch cropped by
    ``crop(x, lengths)`` after preprocessing and encoded live."""
    reader, index = BatchReader(run.data, []), run.split(split)

    def features(positions: torch.Tensor) -> torch.Tensor:
        x, lengths, _ = reader.read(index[positions.numpy()])
        x, lengths = crop(*run.preprocess(x.to(run.device), lengths.to(run.device)))
        with torch.no_grad():
            return run.encoders[stream](x, lengths).float()

    return features


def crop_frames(run: LoadedRun) -> int:
    """The length ISC's protocol crops are resampled to: the preprocessed length
    (``data.frames``), or with ``data.frames: 0`` the length the method's own crops had
    (ISC's ``method.frames``, 64)."""
    return run.config.data.frames or int(getattr(run.config.method, "frames", 64))


def centre_crop_features(run: LoadedRun, stream: str, split: str) -> torch.Tensor:
    """Features of every sample of the split from its centre 95 % (ISC's test view),
    resampled to :func:`crop_frames`."""
    frames = crop_frames(run)
    features = _crop_encoder(run, stream, split,
                             lambda x, lengths: centre_crop(x, lengths, frames, 0.95))
    return torch.cat([features(part) for part in torch.arange(len(run.split(split))).split(256)])


def _cropped_features(generator: torch.Generator):
    """ISC's views for the linear probe: random crop-resizes of U[0.5, 1] of each training
    sequence, drawn anew for every batch, and the centre 95 % of each test sequence (computed
    once), both resampled to :func:`crop_frames` and encoded live."""

    def make(run: LoadedRun, stream: str, split: str):
        if split != run.config.data.train_split:
            every = centre_crop_features(run, stream, split)
            return lambda positions: every[positions]
        return _crop_encoder(run, stream, split, lambda x, lengths: crop_resize(
            x, lengths, crop_frames(run), 0.5, generator))

    return make


def linear_probe(run: LoadedRun, stream: str, preset_name: str, seed: int = 0,
                 cache: bool = True, progress: bool = True, label_fraction: float = 1.0,
                 draw: int = 0) -> dict:
    """Linear protocol on one encoder; the encoder is verified unchanged afterwards.

    ``label_fraction < 1`` trains the classifier on a class-balanced labelled subset of the
    training split (round(fraction·n_c) samples per class, at least one, drawn by ``draw``);
    the test split is always whole.
    """
    preset = get_preset(preset_name)
    encoder = run.encoders[stream]
    before = fingerprint(encoder)
    c = run.config.data
    started = time.perf_counter()
    features = _cached_features if cache else _live_features
    if preset.crops:
        features = _cropped_features(torch.Generator().manual_seed(seed))
    train_fn = features(run, stream, c.train_split)
    train_labels = split_labels(run, c.train_split)
    if label_fraction < 1.0:
        labelled = torch.from_numpy(
            label_fraction_indices(train_labels.numpy(), label_fraction, draw))
        train_fn = _restricted(train_fn, labelled)
        train_labels = train_labels[labelled]
    test_fn = features(run, stream, c.test_split)
    result = train_linear(train_fn, train_labels, test_fn, split_labels(run, c.test_split),
                          encoder.feature_dim, run.data.num_classes, preset, seed, run.device,
                          desc=f"linear {stream}" if progress else None)
    assert_unchanged(before, encoder, f"encoder {stream!r}")
    return {**result_header(run, stream, "linear"), "preset": preset_name,
            "encoder_digest": digest(before),
            "features": feature_mode(preset_name, cache),
            "label_fraction": label_fraction, "label_draw": draw if label_fraction < 1 else None,
            "train_samples": len(train_labels), **result,
            "per_class_top1": _per_class(run, result["predictions"]),
            "seed": seed, "wall_time_s": time.perf_counter() - started}


def _restricted(features, positions: torch.Tensor):
    """A feature function over the samples at ``positions`` of another one."""
    return lambda chosen: features(positions[chosen])


def knn_eval(run: LoadedRun, stream: str, k: int, temperature: float,
             centre: bool = False) -> dict:
    """kNN protocol (k = 1: nearest neighbour; k > 1: weighted vote) on one encoder; ``centre``:
    on features of every sequence's centre 95 % (ISC's protocol) instead of the cached ones."""
    c = run.config.data
    started = time.perf_counter()
    train, test = (centre_crop_features(run, stream, split) if centre else
                   cached_features(run, stream, split) for split in (c.train_split, c.test_split))
    predictions = knn_predict(train, split_labels(run, c.train_split), test, k,
                              run.data.num_classes, temperature)
    return {**result_header(run, stream, "knn"), "k": k, "crop": "centre" if centre else None,
            "temperature": temperature if k > 1 else None,
            "top1": top1(predictions, split_labels(run, c.test_split)), "epoch": "final",
            "predictions": predictions.tolist(), "per_class_top1": _per_class(run, predictions),
            "wall_time_s": time.perf_counter() - started}


def retrieval_eval(run: LoadedRun, stream: str, ks: tuple[int, ...] = (1, 5, 10),
                   centre: bool = False) -> dict:
    """Action retrieval: test queries against the training split (top-1, recall@k, mAP);
    ``centre``: on centre-crop features (ISC's protocol)."""
    c = run.config.data
    started = time.perf_counter()
    train, test = (centre_crop_features(run, stream, split) if centre else
                   cached_features(run, stream, split) for split in (c.train_split, c.test_split))
    scores = retrieval_scores(train, split_labels(run, c.train_split), test,
                              split_labels(run, c.test_split), ks)
    return {**result_header(run, stream, "retrieval"), **scores,
            "crop": "centre" if centre else None, "epoch": "final",
            "wall_time_s": time.perf_counter() - started}


def segment_eval(run: LoadedRun, stream: str, window: int = 50, stride: int = 10,
                 frame_step: int = 5, preset_name: str | None = None, seed: int = 0) -> dict:
    """Action segmentation of the run's untrimmed test sequences (see
    :mod:`skelssl.eval.segmentation`), the classifier on the run's linear preset."""
    from skelssl.eval.segmentation import segment

    c = run.config
    preset_name = preset_name or c.eval.linear_preset
    result = segment(run.data, run.encoders[stream], run.preprocess, run.split(c.data.train_split),
                     run.split(c.data.test_split), get_preset(preset_name), run.device, window,
                     stride, frame_step, seed, c.eval.batch_size)
    return {**result_header(run, stream, "segment"), "preset": preset_name, **result}


def _per_class(run: LoadedRun, predictions: list[int] | torch.Tensor) -> dict:
    """Top-1 of each test class, by class name."""
    matrix = confusion_matrix(split_labels(run, run.config.data.test_split),
                              torch.as_tensor(predictions), run.data.num_classes)
    return per_class_top1(matrix, run.data.class_names)


def result_header(run: LoadedRun, stream: str, protocol: str) -> dict:
    c = run.config
    return {"protocol": protocol, "method": c.method.name, "stream": stream,
            "weights": run.weights, "encoder_epoch": run.encoder_epoch,
            "dataset": str(c.data.path), "benchmark": c.data.benchmark,
            "train_split": c.data.train_split, "test_split": c.data.test_split,
            "pretrain_seed": c.seed, "machine": machine()}


def result_path(run: LoadedRun, protocol: str, detail: str, stream: str) -> Path:
    """results/<protocol>-<detail>-<weights>-<stream>[-val].json in the run directory."""
    split = "-val" if run.config.data.test_split == VALIDATION else ""
    return run.run_dir / "results" / f"{protocol}-{detail}-{run.weights}-{stream}{split}.json"


def earlier_linear_probe(run: LoadedRun, stream: str, preset: str, seed: int, cache: bool
                         ) -> dict | None:
    """The linear result this run already holds for the same encoder weights, data, preset,
    seed and feature mode (all labels), or None: asking again reuses it."""
    path = result_path(run, "linear", preset, stream)
    if not path.is_file():
        return None
    try:
        stored = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        return None
    expected = {"encoder_digest": digest(fingerprint(run.encoders[stream])), "seed": seed,
                "features": feature_mode(preset, cache), "label_fraction": 1.0,
                "dataset": str(run.config.data.path),
                "benchmark": run.config.data.benchmark, "test_split": run.config.data.test_split}
    return stored if all(stored.get(k) == v for k, v in expected.items()) else None


def write_result(run: LoadedRun, result: dict) -> Path:
    """results/<protocol>-<detail>-<weights>-<stream>[-val].json in the run directory."""
    detail = result.get("preset") or (f"k{result['k']}" if "k" in result else "cosine")
    if result.get("crop"):
        detail += f"-{result['crop']}"
    path = result_path(run, result["protocol"], detail, result["stream"])
    path.parent.mkdir(parents=True, exist_ok=True)
    serialisable = {k: v for k, v in result.items() if not isinstance(v, torch.Tensor)}
    path.write_text(json.dumps(serialisable, indent=1))
    return path
