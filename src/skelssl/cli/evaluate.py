"""``skelssl eval ...``: the protocols on a pretrained run (linear, kNN, retrieval, transfer,
segmentation, semi-supervised, finetuning, stream ensembles)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

eval_app = typer.Typer(help="Evaluate a pretrained run: linear probe, kNN, semi-supervised, "
                       "finetune, stream ensembles.", no_args_is_help=True)

CENTRE_HELP = "Features of every sequence's centre 95 % (ISC's protocol), not the cache."
WEIGHTS_HELP = ("trained (encoder.pt), random (same architecture at initialisation) or "
                "epoch-N (the snapshot kept after N epochs: train.snapshot_epochs; not "
                "for finetune).")
DATA_HELP = "Prepared dataset, when the run's relative data.path does not resolve here."
SPLIT_HELP = ("test (the benchmark's test split) or val: fit on train-val, score on val, a "
              "held-out fifth of the training subjects — for choosing settings without "
              "looking at the test split (results get a -val suffix).")

# The arguments and options that several eval commands share, declared once.
RunDir = Annotated[Path, typer.Argument(help="Run directory of `skelssl pretrain`.")]
Streams = Annotated[list[str] | None, typer.Option(help="Encoder(s) to evaluate (default: all).")]
Weights = Annotated[str, typer.Option(help=WEIGHTS_HELP)]
Split = Annotated[str, typer.Option(help=SPLIT_HELP)]
Data = Annotated[str | None, typer.Option(help=DATA_HELP)]
CentreCrop = Annotated[bool, typer.Option("--centre-crop", help=CENTRE_HELP)]
ProbeSeed = Annotated[int, typer.Option(help="Seed of the classifier's init and batch order.")]


@eval_app.command("linear")
def eval_linear(
    run_dir: RunDir,
    preset: str | None = typer.Option(
        None, help="crossclr (lr 3.0, batch 128, 100 epochs), crrl (Nesterov lr 0.1, batch "
                   "16, 85 epochs) or isc (lr 0.1, batch 64, 80 epochs on random crop-resizes "
                   "through the live encoder, tested on the centre 95 %); add -std to "
                   "standardise the features with the training "
                   "split's statistics first (crrl-std fits on small datasets such as NW-UCLA, "
                   "where the raw presets do not); default: the run's eval.linear_preset."),
    stream: Streams = None,
    weights: Weights = "trained",
    seed: ProbeSeed = 0,
    cache: bool = typer.Option(True, help="Train on cached features (same result, faster)."),
    report: str = typer.Option(
        "final", help="final (default), or best = best test epoch, as the papers report."),
    split: Split = "test",
    data: Data = None,
) -> None:
    """Linear probe on frozen features (encoder in eval mode, verified unchanged)."""
    from skelssl.eval.plots import result_confusion
    from skelssl.eval.protocol import earlier_linear_probe, linear_probe, load_run, write_result

    if report not in ("final", "best"):
        raise typer.BadParameter("expected final or best", param_hint="--report")
    run = load_run(run_dir, weights, data, split=split)
    for name in chosen_streams(run, stream):
        chosen = preset or run.config.eval.linear_preset
        result = earlier_linear_probe(run, name, chosen, seed, cache)
        reused = " (the earlier result of the same encoder and settings)" if result else ""
        if result is None:
            result = linear_probe(run, name, chosen, seed, cache)
        path = write_result(run, result)
        best = result["best_test_epoch"]
        headline = (f"{result['top1']:.2f} (final epoch)" if report == "final" else
                    f"{best['top1']:.2f} (best test epoch {best['epoch']}: optimistic)")
        typer.echo(f"linear {result['preset']} {name} [{weights}]: top-1 {headline}{reused}  → "
                   f"{path} (confusion matrix: {result_confusion(path).name})")


@eval_app.command("knn")
def eval_knn(
    run_dir: RunDir,
    k: list[int] = typer.Option([], min=1, help="Neighbours (repeat: --k 1 --k 20); default: the "
                                         "run's eval.knn_k. k=1 is 1-NN, k>1 a weighted vote."),
    temperature: float | None = typer.Option(
        None, help="Vote weight exp(sim/T) for k > 1 (T > 0)."),
    stream: Streams = None,
    weights: Weights = "trained",
    split: Split = "test",
    centre_crop: CentreCrop = False,
    data: Data = None,
) -> None:
    """kNN on L2-normalised frozen features (exact cosine search)."""
    from skelssl.eval.plots import result_confusion
    from skelssl.eval.protocol import knn_eval, load_run, write_result

    if temperature is not None and not temperature > 0:
        raise typer.BadParameter(f"{temperature}: expected a temperature > 0",
                                 param_hint="--temperature")
    run = load_run(run_dir, weights, data, split=split)
    for name in chosen_streams(run, stream):
        for neighbours in k or run.config.eval.knn_k:
            result = knn_eval(run, name, neighbours,
                              run.config.eval.knn_temperature if temperature is None
                              else temperature, centre_crop)
            path = write_result(run, result)
            typer.echo(f"knn k={neighbours} {name} [{weights}]: top-1 {result['top1']:.2f}"
                       f"  → {path} (confusion matrix: {result_confusion(path).name})")


@eval_app.command("retrieval")
def eval_retrieval(
    run_dir: RunDir,
    k: list[int] = typer.Option([], min=1, help="recall@k to report (repeat: --k 5 --k 10); "
                                                "default 1, 5, 10."),
    stream: Streams = None,
    weights: Weights = "trained",
    split: Split = "test",
    centre_crop: CentreCrop = False,
    data: Data = None,
) -> None:
    """Action retrieval: every test sequence queries the training split (cosine similarity).

    Top-1 (the nearest training sequence has the query's class), recall@k (one of the k
    nearest has it) and mAP over the whole ranking (ISC's Table 3).

    \b
    Example:
      skelssl eval retrieval runs/skeletonclr/nw-ucla-seed0 --k 5
    """
    from skelssl.eval.protocol import load_run, retrieval_eval, write_result

    run = load_run(run_dir, weights, data, split=split)
    for name in chosen_streams(run, stream):
        result = retrieval_eval(run, name, tuple(k) or (1, 5, 10), centre_crop)
        path = write_result(run, result)
        recalls = "  ".join(f"{key} {value:.2f}" for key, value in result.items()
                            if key.startswith("recall@"))
        typer.echo(f"retrieval {name} [{weights}]: top-1 {result['top1']:.2f}  {recalls}  "
                   f"mAP {result['map']:.2f}  → {path}")


@eval_app.command("transfer")
def eval_transfer(
    run_dir: RunDir,
    target: str = typer.Option(..., help="Prepared dataset to evaluate on, in the run's "
                                         "layout (see `skelssl prepare relayout`)."),
    benchmark: str | None = typer.Option(None, help="Benchmark of the target (default: the "
                                                    "run's)."),
    protocol: str = typer.Option("linear", help="linear (frozen encoder; ActCLR) or finetune "
                                                "(ISC, CRRL)."),
    preset: str | None = typer.Option(
        None, help="Linear preset (default: the run's eval.linear_preset) or finetune preset "
                   "(default: crossclr; isc for ISC's Adam)."),
    stream: Streams = None,
    weights: Weights = "trained",
    seed: int = typer.Option(0, help="linear: seed of the classifier's init and batch order."),
    device: str = typer.Option("auto", help="finetune: auto, cpu, cuda, ..."),
) -> None:
    """Transfer: pretrained on one dataset, evaluated on another (same layout).

    \b
    Example (NTU-60 → PKU-MMD II, both ntu25):
      skelssl eval transfer runs/skeletonclr/ntu60-xsub-seed0 --target data/pku-mmd-2 \\
          --benchmark xsub --protocol finetune --preset isc
    """
    from skelssl.config import load_config
    from skelssl.engine.run_dir import CONFIG_FILE, final_stage_dir
    from skelssl.eval.finetune import encoder_names, finetune, write_finetune_result
    from skelssl.eval.transfer import PROTOCOLS, check_target, transfer_linear

    if protocol not in PROTOCOLS:
        raise typer.BadParameter(f"{protocol!r}: expected one of {', '.join(PROTOCOLS)}",
                                 param_hint="--protocol")
    check_target(run_dir, target)
    linear_preset = preset or load_config(final_stage_dir(run_dir) / CONFIG_FILE
                                          ).eval.linear_preset
    for name in stream or encoder_names(run_dir):
        if protocol == "linear":
            result, path = transfer_linear(run_dir, target, name, linear_preset, benchmark,
                                           weights, seed)
        else:
            result = finetune(run_dir, preset or "crossclr", name, weights, device=device,
                              target=target, benchmark=benchmark)
            path = write_finetune_result(result)
        typer.echo(f"transfer {protocol} {name} [{weights}] → {Path(target).name}: top-1 "
                   f"{result['top1']:.2f} (final epoch)  → {path}")


@eval_app.command("segment")
def eval_segment(
    run_dir: RunDir,
    data: str = typer.Option(..., help="Prepared untrimmed sequences with per-frame labels "
                                       "(`skelssl prepare pku-mmd ... --untrimmed`)."),
    benchmark: str | None = typer.Option(None, help="Benchmark of --data (default: the "
                                                    "run's)."),
    window: int = typer.Option(50, min=1, help="Frames per sliding window (one clip)."),
    stride: int = typer.Option(10, min=1, help="Frames between window starts."),
    frame_step: int = typer.Option(5, min=1, help="Train the classifier on every n-th frame "
                                                  "(neighbouring frames share windows)."),
    preset: str | None = typer.Option(None, help="Linear preset of the frame classifier "
                                                 "(default: the run's eval.linear_preset)."),
    stream: Streams = None,
    weights: Weights = "trained",
    split: Split = "test",
    seed: ProbeSeed = 0,
) -> None:
    """Unsupervised action segmentation (ActCLR's Table 6): frozen encoder, sliding windows.

    Each frame of an untrimmed sequence gets the mean feature of the windows over it; a linear
    classifier learns the frame classes (background included) on the training sequences and
    labels every frame of the test ones. Reported on frames: ACC, MACC (mean per-class
    accuracy), mIoU and FWIoU (frequency-weighted IoU), with a picture of the true and
    predicted segments of the first test sequence.

    \b
    Example:
      skelssl eval segment runs/skeletonclr/ntu60-xsub-seed0 --data data/pku-mmd-2-untrimmed \\
          --benchmark xsub
    """
    from skelssl.eval.plots import save_segments
    from skelssl.eval.protocol import load_run, segment_eval, write_result

    run = load_run(run_dir, weights, data, split=split, benchmark=benchmark)
    for name in chosen_streams(run, stream):
        result = segment_eval(run, name, window, stride, frame_step, preset, seed)
        path = write_result(run, result)
        first, segments = next(iter(result["sequences"].items()))
        picture = save_segments(segments, run.data.class_names, path.with_suffix(".png"),
                                f"{first}: ACC {result['acc']:.1f}")
        typer.echo(f"segment {name} [{weights}]: ACC {result['acc']:.2f}  MACC "
                   f"{result['macc']:.2f}  mIoU {result['miou']:.2f}  FWIoU "
                   f"{result['fwiou']:.2f}  → {path} ({picture.name})")


@eval_app.command("semi")
def eval_semi(
    run_dir: RunDir,
    fraction: list[float] = typer.Option(
        [], help="Labelled fraction of the training split, repeatable (default: 0.01 0.05 "
                 "0.1 0.2); class-balanced, round(fraction × class size) per class, ≥ 1."),
    draws: int = typer.Option(3, help="Draws of the labelled samples per fraction (seeds "
                                      "0, 1, ...): the result is their mean ± std."),
    preset: str | None = typer.Option(
        None, help="Linear preset (see `skelssl eval linear --help`); default: the run's "
                   "eval.linear_preset."),
    stream: Streams = None,
    weights: Weights = "trained",
    seed: ProbeSeed = 0,
    split: Split = "test",
    data: Data = None,
) -> None:
    """Semi-supervised: the linear probe trained on labelled fractions of the training split.

    The test split is always whole; the final epoch is reported.

    \b
    Example:
      skelssl eval semi runs/skeletonclr/nw-ucla-seed0 --fraction 0.1 --draws 5
    """
    from skelssl.eval.protocol import load_run, write_result
    from skelssl.eval.semi import FRACTIONS, semi_supervised

    for value in fraction:
        if not 0.0 < value <= 1.0:
            raise typer.BadParameter(f"{value}: expected a fraction in (0, 1]",
                                     param_hint="--fraction")
    run = load_run(run_dir, weights, data, split=split)
    for name in chosen_streams(run, stream):
        result = semi_supervised(run, name, preset or run.config.eval.linear_preset,
                                 tuple(fraction) or FRACTIONS, draws, seed)
        path = write_result(run, result)
        cells = [f"{100 * row['label_fraction']:g} % ({row['train_samples']} samples) "
                 f"{row['mean']:.2f}" + (f" ± {row['std']:.2f}" if row["std"] is not None
                                         else "")
                 for row in result["fractions"]]
        typer.echo(f"semi {result['preset']} {name} [{weights}]: " + " · ".join(cells) +
                   f"  → {path}")


@eval_app.command("finetune")
def eval_finetune(
    run_dir: RunDir,
    preset: str = typer.Option("crossclr", help="crossclr: Nesterov SGD lr 0.1, wd 1e-4, "
                                                "batch 64, 100 epochs, ×0.1 after 80; isc: "
                                                "Adam lr 1e-4, 50 epochs, ×0.1 at 30, 40."),
    stream: list[str] = typer.Option([], help="Encoder(s) to finetune (default: all)."),
    weights: str = typer.Option(
        "trained", help="trained (start from encoder.pt) or random (train from scratch: the "
                        "supervised baseline)."),
    label_fraction: float = typer.Option(
        1.0, help="Train on this class-balanced fraction of the training split "
                  "(semi-supervised finetuning)."),
    draw: int = typer.Option(0, help="Which draw of the labelled fraction (its seed)."),
    augment: bool = typer.Option(False, help="Shear + temporal crop of training batches."),
    epochs: int | None = typer.Option(None, help="Override the preset's epochs (the lr "
                                                 "milestones stay)."),
    device: str = typer.Option("auto", help="auto, cpu, cuda, cuda:1, ..."),
) -> None:
    """Finetune: the encoder and a linear classifier trained end to end, then tested.

    Each finetuning is a resumable run in RUN_DIR/finetune/<name>/; the result (final epoch)
    goes to RUN_DIR/results/finetune-<name>.json with its confusion matrix.

    \b
    Example:
      skelssl eval finetune runs/skeletonclr/nw-ucla-seed0 --label-fraction 0.1
    """
    from skelssl.eval.finetune import encoder_names, finetune, write_finetune_result
    from skelssl.eval.plots import result_confusion

    if not 0.0 < label_fraction <= 1.0:
        raise typer.BadParameter(f"{label_fraction}: expected a fraction in (0, 1]",
                                 param_hint="--label-fraction")
    for name in stream or encoder_names(run_dir):
        result = finetune(run_dir, preset, name, weights, label_fraction, draw, augment, epochs,
                          device)
        path = write_finetune_result(result)
        typer.echo(f"finetune {preset} {result['stream']} [{weights}]: top-1 "
                   f"{result['top1']:.2f} (final epoch)  → {path} (confusion matrix: "
                   f"{result_confusion(path).name})")


@eval_app.command("ensemble")
def eval_ensemble(
    run_dirs: list[Path] = typer.Argument(
        ..., help="One multi-stream run (CrosSCLR) or several single-stream runs."),
    weight: list[str] = typer.Option(
        [], help="Stream weight, repeatable: --weight motion=0.5 (defaults joint 0.6, "
                 "motion 0.4, bone 0.6; ISC's sequence, graph and image 1)."),
    preset: str | None = typer.Option(
        None, help="Linear preset of every stream; default: the first run's "
                   "eval.linear_preset."),
    seed: int = typer.Option(0, help="Seed of each classifier's init and batch order."),
    out: Path | None = typer.Option(
        None, help="Result JSON; default: results/ensemble-<preset>-<streams>.json in the "
                   "first run."),
    split: Split = "test",
    data: Data = None,
) -> None:
    """Weighted sum of per-stream linear-probe logits (final epoch).

    Every subset of two or more streams is fused.

    \b
    Example:
      skelssl eval ensemble runs/crossclr/nw-ucla-seed0
    """
    import json

    from skelssl.eval.ensemble import ensemble_eval, stream_members
    from skelssl.eval.plots import result_confusion
    from skelssl.eval.protocol import load_run, write_result

    weights = dict(stream_weight(item) for item in weight)
    runs = [load_run(run_dir, "trained", data, split=split) for run_dir in run_dirs]
    preset = preset or runs[0].config.eval.linear_preset
    result = ensemble_eval(runs, preset, weights, seed)
    owners = stream_members(runs)
    for stream, probe in result.pop("probes").items():
        write_result(owners[stream], probe)
    suffix = "-val" if split == "val" else ""
    path = out or runs[0].run_dir / "results" / (
        f"ensemble-{preset}-{'+'.join(result['streams'])}{suffix}.json")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=1))
    for stream, accuracy in result["streams"].items():
        typer.echo(f"linear {preset} {stream}: top-1 {accuracy:.2f}")
    for streams, accuracy in result["ensembles"].items():
        shown = " + ".join(f"{result['weights'][s]:g}·{s}" for s in streams.split("+"))
        typer.echo(f"ensemble {shown}: top-1 {accuracy:.2f}")
    typer.echo(f"→ {path} (confusion matrix: {result_confusion(path, data).name})")


def stream_weight(item: str) -> tuple[str, float]:
    name, _, value = item.partition("=")
    try:
        return name, float(value)
    except ValueError:
        raise typer.BadParameter(f"{item!r}: expected STREAM=NUMBER",
                                 param_hint="--weight") from None


def chosen_streams(run, requested: list[str] | None) -> list[str]:
    for name in requested or []:
        if name not in run.encoders:
            raise typer.BadParameter(f"no encoder {name!r}; this run has {sorted(run.encoders)}",
                                     param_hint="--stream")
    return requested or list(run.encoders)
