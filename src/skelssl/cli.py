"""The ``skelssl`` command."""

from __future__ import annotations

import sys
from inspect import cleandoc
from pathlib import Path

import typer

from skelssl import __version__

app = typer.Typer(
    help="skelssl: self-supervised representation learning on human skeleton sequences.\n\n"
         "Start with `skelssl demo`. Then: `skelssl prepare` raw data, `skelssl inspect` it, "
         "`skelssl pretrain CONFIG`, `skelssl eval linear|knn|semi|finetune RUN_DIR`, "
         "`skelssl plot tsne RUN_DIR`.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)

PREPARE_HELP = """Turn raw skeleton data into a prepared dataset (memory-mapped arrays + meta.json).

FORMAT is one of:

\b
  ntu60       NTU RGB+D 60 .skeleton files (--raw FOLDER); splits xsub, xview
  ntu120      NTU RGB+D 120 .skeleton files (--raw FOLDER); splits xsub, xset
  nw-ucla     NW-UCLA all_sqe JSON files (--raw FOLDER); split view3
  pku-mmd     PKU-MMD .txt files (--raw FOLDER), labels (--labels FOLDER)
              and split lists (--split xsub=FILE): a clip per action,
              or --untrimmed sequences with per-frame labels
  asf-amc     Acclaim mocap, e.g. CMU (--raw FOLDER of .asf/.amc) with a class
              list (--labels motion,class[,fold] CSV); splits foldK
  npy         (N,C,T,V,M) .npy (--raw) with --labels .npy/.pkl
              [--test-raw --test-labels]
  ctrgcn-npz  CTR-GCN .npz with x_train/y_train/x_test/y_test (--raw FILE)
  pyskl       pyskl/MMAction2 keypoint annotations .pkl (--raw FILE), e.g.
              2-D COCO keypoints from a pose estimator (read without code)
  custom      bring-your-own .npz, see docs/data.md (--raw FILE)
  relayout    a prepared dataset (--raw DIR) in another --layout, joints
              matched by name (--joint-map FILE for others): for transfer
  synthetic   procedural actions, generated (no --raw)

Damaged files are all listed and preparation stops, unless --skip-damaged.
Folders of files are read on all cores; each sequence waits on disk beside
--out (not in memory) until the padded arrays are written, so NTU-120 needs
about 0.4 GB of memory and its raw coordinates' size once more in free disk.

\b
Examples:
  skelssl prepare nw-ucla --raw path/to/all_sqe --out data/nw-ucla
  skelssl prepare pku-mmd --raw PKU/Skeleton --labels PKU/Label \\
      --split xsub=PKU/Split/cross-subject.txt \\
      --split xview=PKU/Split/cross-view.txt --out data/pku-mmd-1
"""


@app.command(help=PREPARE_HELP)
def prepare(
    fmt: str = typer.Argument(..., metavar="FORMAT", help="Raw format (see above)."),
    out: Path = typer.Option(..., "--out", "-o", help="Directory to create."),
    raw: Path | None = typer.Option(None, help="Raw folder or file."),
    labels: Path | None = typer.Option(
        None, help="npy: labels of --raw (.npy or .pkl); pku-mmd: the label folder; "
                    "asf-amc: the class list."),
    test_raw: Path | None = typer.Option(None, help="npy: test-part data .npy."),
    test_labels: Path | None = typer.Option(None, help="npy: test-part labels."),
    layout: str | None = typer.Option(
        None, help="Layout name (ntu25, ucla20, cmu31, coco17, body25, openpose18) or YAML "
                    "file."),
    benchmark: str = typer.Option("default", help="npy/ctrgcn-npz: name of the split."),
    body_selection: str = typer.Option(
        "most-active", help="NTU: keep the 2 most active bodies, or the 'first' two."),
    exclude: Path | None = typer.Option(None, help="NTU: file of sample names to leave out."),
    split: list[str] = typer.Option(
        [], metavar="NAME=FILE", help="pku-mmd: a benchmark and its official split list, "
                                      "repeatable: --split xsub=Split/cross-subject.txt"),
    untrimmed: bool = typer.Option(
        False, help="pku-mmd: whole sequences with per-frame labels (for segmentation)."),
    class_names: Path | None = typer.Option(
        None, help="pku-mmd: action names, 'id,name' lines (Actions.xlsx saved as CSV)."),
    joint_map: Path | None = typer.Option(
        None, help="relayout: 'layout_joint,data_joint' lines for joints whose names differ."),
    project: bool = typer.Option(
        False, help="relayout: project 3-D camera coordinates to 2-D keypoints (pinhole)."),
    scores: bool = typer.Option(
        False, help="pyskl, custom: keep each keypoint's confidence ('keypoint_score') as a last "
                    "channel (x, y, score) for the encoder; geometric augmentations leave it "
                    "as it is."),
    joint_order: str | None = typer.Option(
        None, help="The order the file's joints come in, onto --layout: names "
                   "(hip_center,spine,...) or a 1-based permutation (the k-th joint is layout "
                   "joint p_k)."),
    rule: list[str] = typer.Option(
        [], metavar="NAME:KEY=V1,V2", help="A benchmark from per-sample metadata, repeatable: "
                                           "--rule xview:camera=2,3 trains on cameras 2, 3."),
    workers: int | None = typer.Option(None, help="Processes for reading (default: all)."),
    seed: int = typer.Option(0, help="synthetic: random seed."),
    per_class: int = typer.Option(100, help="synthetic: samples per class."),
    dims: int = typer.Option(3, min=2, max=3,
                             help="synthetic: 3-D joints, or 2 for projected 2-D keypoints."),
    skip_damaged: bool = typer.Option(False, help="Leave damaged files out (recorded)."),
    overwrite: bool = typer.Option(False, help="Replace a different dataset at --out."),
    allow_pickle: bool = typer.Option(
        False, help="custom: read a 'sequences' object array by unpickling it. Unpickling runs "
                    "code stored in the file: only for files you trust."),
) -> None:
    import json

    from skelssl.data.prepare import PrepareOptions
    from skelssl.data.prepare import prepare as run_prepare

    if workers is not None and workers < 1:
        raise typer.BadParameter(f"{workers}: expected at least 1 process", param_hint="--workers")
    split_files = {}
    for item in split:
        name, sep, file = item.partition("=")
        if not sep or not name or not file:
            raise typer.BadParameter(f"{item!r}: expected NAME=FILE", param_hint="--split")
        split_files[name] = Path(file)
    opts = PrepareOptions(raw=raw, labels=labels, test_raw=test_raw, test_labels=test_labels,
                          layout=layout, benchmark=benchmark, body_selection=body_selection,
                          exclude=exclude, workers=workers, split_files=split_files,
                          untrimmed=untrimmed, class_names=class_names, joint_map=joint_map,
                          joint_order=joint_order, rules=list(rule), project=project,
                          scores=scores,
                          seed=seed,
                          per_class=per_class, dims=dims,
                          skip_damaged=skip_damaged, overwrite=overwrite,
                          allow_pickle=allow_pickle)
    path, written = run_prepare(fmt, out, opts)
    if not written:
        typer.echo(f"{path} already holds this dataset (pass --overwrite to rebuild)")
        return
    meta = json.loads((path / "meta.json").read_text())
    for skipped in meta.get("skipped", []):
        typer.echo(f"skipped (damaged): {skipped['file']}: {skipped['reason']}", err=True)
    for note in meta.get("notes", []):
        typer.echo(f"note: {note}", err=True)
    count, skipped_count = meta["shape"]["N"], len(meta.get("skipped", []))
    typer.echo(f"prepared {fmt} dataset in {path}: {count} sequences"
               + (f", {skipped_count} damaged left out (listed above and in meta.json)"
                  if skipped_count else "")
               + f"; look at it with `skelssl inspect {path}`")


@app.command()
def inspect(
    dataset: Path = typer.Argument(..., help="Prepared dataset directory."),
    sample: str | None = typer.Option(None, help="Sample index or name to draw."),
    save: Path | None = typer.Option(
        None, help="Picture of the sample: .png/.svg/.pdf = strip of frames, .gif = animation."),
    frames: int = typer.Option(8, help="Frames in the strip."),
    view: str = typer.Option("front", help="Projection: front, side or top."),
    verify: bool = typer.Option(False, help="Check the arrays against their sha256 checksums."),
) -> None:
    """Summarise a prepared dataset and optionally save a picture of one sample."""
    from skelssl.data.dataset import PreparedDataset
    from skelssl.data.summary import summarize
    from skelssl.viz import VIEWS

    if view not in VIEWS:
        raise typer.BadParameter(f"{view!r}: expected one of {', '.join(VIEWS)}",
                                 param_hint="--view")
    data = PreparedDataset.open(dataset, verify=verify)
    typer.echo(summarize(data))
    if verify:
        typer.echo("checksum  ok")
    if save is None:
        if sample is not None:
            raise typer.BadParameter("--sample needs --save FILE.png|.gif", param_hint="--sample")
        return
    from skelssl.viz import save_sequence_picture

    index = _sample_index(data.names, sample or "0")
    length = int(data.lengths[index])
    joints = data.joints[index][:, :length].transpose(3, 1, 2, 0)  # (M, T, V, C)
    title = f"{data.names[index]}: {data.class_names[data.labels[index]]}"
    save_sequence_picture(joints, data.layout, save, title=title, frames=frames, view=view)
    typer.echo(f"saved {save}")


def _sample_index(names: list[str], sample: str) -> int:
    if sample.isdigit():
        index = int(sample)
        if index >= len(names):
            raise typer.BadParameter(f"index {index} ≥ {len(names)} samples",
                                     param_hint="--sample")
        return index
    if sample not in names:
        raise typer.BadParameter(f"no sample named {sample!r}", param_hint="--sample")
    return names.index(sample)


PRETRAIN_HELP = """Pretrain a self-supervised encoder from a YAML config.

\b
Examples:
  skelssl pretrain configs/skeletonclr/nw-ucla.yaml
  skelssl pretrain configs/skeletonclr/nw-ucla.yaml --set seed=1
  skelssl pretrain --resume runs/skeletonclr/nw-ucla-seed0  # after a stop
  skelssl pretrain configs/crrl/nw-ucla.yaml   # CML, then SER + INF

A config with `stages` (CRRL's pipeline) trains each stage into RUN_DIR/<stage> in order;
--resume continues at the interrupted stage, --set stages.<stage>.train.epochs=... sets one
stage, and `skelssl eval ... RUN_DIR` evaluates the last stage.

The run directory (default runs/<config folder>/<config name>-seed<seed>) receives
config.yaml (resolved), run.json (version, commit, machine, command), metrics.csv, curves.png,
last.pt (full state, written atomically every epoch) and encoder.pt (what evaluation loads).
Under torchrun the batch size is global and split across processes:

\b
  torchrun --nproc_per_node 4 -m skelssl pretrain CONFIG
"""


@app.command(help=PRETRAIN_HELP)
def pretrain(
    config: Path | None = typer.Argument(None, help="YAML config (not needed with --resume)."),
    out: Path | None = typer.Option(None, "--out", "-o", help="Run directory to create."),
    overrides: list[str] = typer.Option([], "--set", help="Override a key: --set train.lr=0.05"),
    resume: Path | None = typer.Option(None, help="Run directory to continue from last.pt."),
    until_epoch: int | None = typer.Option(
        None, min=0, help="Stop after this epoch (continue later with --resume)."),
    quiet: bool = typer.Option(False, help="No progress bars or epoch lines."),
) -> None:
    from skelssl.config import load_config, read_yaml
    from skelssl.engine.pipeline import is_pipeline, run_pipeline
    from skelssl.engine.run_dir import CONFIG_FILE, PIPELINE_FILE, holds_run
    from skelssl.engine.trainer import pretrain as run_pretrain

    if resume is not None and config is not None:
        raise typer.BadParameter(f"give a CONFIG to start a run, or --resume RUN_DIR to "
                                 f"continue one, not both ({resume} has its own config)",
                                 param_hint="CONFIG")
    if resume is not None:
        run_dir = resume
        pipeline = (run_dir / PIPELINE_FILE).is_file()
        source = run_dir / (PIPELINE_FILE if pipeline else CONFIG_FILE)
        if not source.is_file():
            raise typer.BadParameter(f"{run_dir} holds no finished epoch to resume from; start "
                                     f"it again: skelssl pretrain CONFIG --out {run_dir}",
                                     param_hint="--resume")
        values = read_yaml(source)
    elif config is None:
        raise typer.BadParameter("give a CONFIG file, or --resume RUN_DIR", param_hint="CONFIG")
    else:
        values = read_yaml(config)
        pipeline = is_pipeline(values)
    where = str(resume / CONFIG_FILE if resume else config)
    values = validated(values, overrides, where, pipeline)
    if resume is None:
        assert config is not None
        run_dir = out or default_run_dir(config, values.get("seed", 0))
        if run_dir.exists() and not run_dir.is_dir():
            raise typer.BadParameter(f"{run_dir} is a file", param_hint="--out")
        if run_dir.exists() and holds_run(run_dir):
            raise typer.BadParameter(f"{run_dir} already holds a run; continue it with "
                                     f"--resume {run_dir} or choose another --out",
                                     param_hint="--out")
    if pipeline:
        if until_epoch is not None:
            raise typer.BadParameter("a multi-stage config runs every stage; stop it any time "
                                     "and continue with --resume", param_hint="--until-epoch")
        stages = run_pipeline(values, run_dir, progress=not quiet)
        summary = ", ".join(f"{name} {epochs} epochs" for name, epochs in stages)
        typer.echo(f"{run_dir}: stages done: {summary}; evaluate the last stage with "
                   f"`skelssl eval linear {run_dir}`")
        return
    resolved = load_config(values, where=where)
    history = run_pretrain(resolved, run_dir, resume=resume is not None,
                           until_epoch=until_epoch, progress=not quiet)
    done = int(history[-1]["epoch"]) if history else 0
    typer.echo(f"{run_dir}: {done}/{resolved.train.epochs} epochs done; evaluate with "
               f"`skelssl eval linear {run_dir}`")


def validated(values: dict, overrides: list[str], where: str, pipeline: bool) -> dict:
    """``values`` with the overrides applied, every stage checked; a mistake of the file is
    named by the file, one of an override by ``--set``."""
    import copy

    from skelssl.config import apply_overrides, load_config
    from skelssl.engine.pipeline import stage_configs
    from skelssl.errors import ConfigError

    def check(candidate: dict) -> None:
        if pipeline:
            stage_configs(candidate, Path("RUN_DIR"), where)
        else:
            load_config(candidate, where=where)

    check(values)
    merged = apply_overrides(copy.deepcopy(values), overrides)
    try:
        check(merged)
    except ConfigError as error:
        message = str(error)
        if message.startswith(where):
            message = "--set " + message.removeprefix(where).lstrip(".")
        raise ConfigError(message) from None
    return merged


def default_run_dir(config: Path, seed: int) -> Path:
    """runs/<config folder>/<config name>-seed<seed>, e.g. runs/crrl/nw-ucla-seed0."""
    return Path("runs") / config.resolve().parent.name / f"{config.stem}-seed{seed}"


config_app = typer.Typer(help="Read configs: every key with its value, checked.",
                         no_args_is_help=True)
app.add_typer(config_app, name="config")


@config_app.command("show")
def config_show(
    config: Path = typer.Argument(..., help="YAML config, or a run directory."),
    overrides: list[str] = typer.Option([], "--set", help="Override a key: --set train.lr=0.05"),
) -> None:
    """Print a config with every key of its schema (defaults filled in) after checking it.

    \b
    Examples:
      skelssl config show configs/skeletonclr/nw-ucla.yaml --set train.epochs=10
      skelssl config show runs/skeletonclr/nw-ucla-seed0
    """
    from skelssl.config import dump_config, load_config, read_yaml
    from skelssl.engine.pipeline import is_pipeline, stage_configs
    from skelssl.engine.run_dir import CONFIG_FILE, PIPELINE_FILE

    if config.is_dir():
        config = config / (PIPELINE_FILE if (config / PIPELINE_FILE).is_file() else CONFIG_FILE)
    values = read_yaml(config)
    pipeline = is_pipeline(values)
    values = validated(values, overrides, str(config), pipeline)
    if not pipeline:
        typer.echo(dump_config(load_config(values)), nl=False)
        return
    for name, stage in stage_configs(values, Path("RUN_DIR"), str(config)):
        typer.echo(f"# stage {name}: RUN_DIR/{name}\n{dump_config(stage)}", nl=False)


eval_app = typer.Typer(help="Evaluate a pretrained run: linear probe, kNN, semi-supervised, "
                       "finetune, stream ensembles.", no_args_is_help=True)
app.add_typer(eval_app, name="eval")

CENTRE_HELP = "Features of every sequence's centre 95 % (ISC's protocol), not the cache."
WEIGHTS_HELP = "trained (encoder.pt) or random (same architecture at initialisation)."
DATA_HELP = "Prepared dataset, when the run's relative data.path does not resolve here."
SPLIT_HELP = ("test (the benchmark's test split) or val: fit on train-val, score on val, a "
              "held-out fifth of the training subjects — for choosing settings without "
              "looking at the test split (results get a -val suffix).")


@eval_app.command("linear")
def eval_linear(
    run_dir: Path = typer.Argument(..., help="Run directory of `skelssl pretrain`."),
    preset: str | None = typer.Option(
        None, help="crossclr (lr 3.0, batch 128, 100 epochs), crrl (Nesterov lr 0.1, batch "
                   "16, 85 epochs) or isc (lr 0.1, batch 64, 80 epochs on random crop-resizes "
                   "through the live encoder, tested on the centre 95 %); add -std to "
                   "standardise the features with the training "
                   "split's statistics first (crrl-std fits on small datasets such as NW-UCLA, "
                   "where the raw presets do not); default: the run's eval.linear_preset."),
    stream: list[str] = typer.Option([], help="Encoder(s) to evaluate (default: all)."),
    weights: str = typer.Option("trained", help=WEIGHTS_HELP),
    seed: int = typer.Option(0, help="Seed of the classifier's init and batch order."),
    cache: bool = typer.Option(True, help="Train on cached features (same result, faster)."),
    report: str = typer.Option(
        "final", help="final (default), or best = best test epoch, as the papers report."),
    split: str = typer.Option("test", help=SPLIT_HELP),
    data: str | None = typer.Option(None, help=DATA_HELP),
) -> None:
    """Linear probe on frozen features (encoder in eval mode, verified unchanged)."""
    from skelssl.eval.plots import result_confusion
    from skelssl.eval.protocol import earlier_linear_probe, linear_probe, load_run, write_result

    if report not in ("final", "best"):
        raise typer.BadParameter("expected final or best", param_hint="--report")
    run = load_run(run_dir, weights, data, split=split)
    for name in _streams(run, stream):
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
    run_dir: Path = typer.Argument(..., help="Run directory of `skelssl pretrain`."),
    k: list[int] = typer.Option([], min=1, help="Neighbours (repeat: --k 1 --k 20); default: the "
                                         "run's eval.knn_k. k=1 is 1-NN, k>1 a weighted vote."),
    temperature: float | None = typer.Option(
        None, help="Vote weight exp(sim/T) for k > 1 (T > 0)."),
    stream: list[str] = typer.Option([], help="Encoder(s) to evaluate (default: all)."),
    weights: str = typer.Option("trained", help=WEIGHTS_HELP),
    split: str = typer.Option("test", help=SPLIT_HELP),
    centre_crop: bool = typer.Option(False, "--centre-crop", help=CENTRE_HELP),
    data: str | None = typer.Option(None, help=DATA_HELP),
) -> None:
    """kNN on L2-normalised frozen features (exact cosine search)."""
    from skelssl.eval.plots import result_confusion
    from skelssl.eval.protocol import knn_eval, load_run, write_result

    if temperature is not None and not temperature > 0:
        raise typer.BadParameter(f"{temperature}: expected a temperature > 0",
                                 param_hint="--temperature")
    run = load_run(run_dir, weights, data, split=split)
    for name in _streams(run, stream):
        for neighbours in k or run.config.eval.knn_k:
            result = knn_eval(run, name, neighbours,
                              run.config.eval.knn_temperature if temperature is None
                              else temperature, centre_crop)
            path = write_result(run, result)
            typer.echo(f"knn k={neighbours} {name} [{weights}]: top-1 {result['top1']:.2f}"
                       f"  → {path} (confusion matrix: {result_confusion(path).name})")


@eval_app.command("retrieval")
def eval_retrieval(
    run_dir: Path = typer.Argument(..., help="Run directory of `skelssl pretrain`."),
    k: list[int] = typer.Option([], min=1, help="recall@k to report (repeat: --k 5 --k 10); "
                                                "default 1, 5, 10."),
    stream: list[str] = typer.Option([], help="Encoder(s) to evaluate (default: all)."),
    weights: str = typer.Option("trained", help=WEIGHTS_HELP),
    split: str = typer.Option("test", help=SPLIT_HELP),
    centre_crop: bool = typer.Option(False, "--centre-crop", help=CENTRE_HELP),
    data: str | None = typer.Option(None, help=DATA_HELP),
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
    for name in _streams(run, stream):
        result = retrieval_eval(run, name, tuple(k) or (1, 5, 10), centre_crop)
        path = write_result(run, result)
        recalls = "  ".join(f"{key} {value:.2f}" for key, value in result.items()
                            if key.startswith("recall@"))
        typer.echo(f"retrieval {name} [{weights}]: top-1 {result['top1']:.2f}  {recalls}  "
                   f"mAP {result['map']:.2f}  → {path}")


@eval_app.command("transfer")
def eval_transfer(
    run_dir: Path = typer.Argument(..., help="Run directory of `skelssl pretrain`."),
    target: str = typer.Option(..., help="Prepared dataset to evaluate on, in the run's "
                                         "layout (see `skelssl prepare relayout`)."),
    benchmark: str | None = typer.Option(None, help="Benchmark of the target (default: the "
                                                    "run's)."),
    protocol: str = typer.Option("linear", help="linear (frozen encoder; ActCLR) or finetune "
                                                "(ISC, CRRL)."),
    preset: str | None = typer.Option(
        None, help="Linear preset (default: the run's eval.linear_preset) or finetune preset "
                   "(default: crossclr; isc for ISC's Adam)."),
    stream: list[str] = typer.Option([], help="Encoder(s) to evaluate (default: all)."),
    weights: str = typer.Option("trained", help=WEIGHTS_HELP),
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
    run_dir: Path = typer.Argument(..., help="Run directory of `skelssl pretrain`."),
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
    stream: list[str] = typer.Option([], help="Encoder(s) to evaluate (default: all)."),
    weights: str = typer.Option("trained", help=WEIGHTS_HELP),
    split: str = typer.Option("test", help=SPLIT_HELP),
    seed: int = typer.Option(0, help="Seed of the classifier's init and batch order."),
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
    for name in _streams(run, stream):
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
    run_dir: Path = typer.Argument(..., help="Run directory of `skelssl pretrain`."),
    fraction: list[float] = typer.Option(
        [], help="Labelled fraction of the training split, repeatable (default: 0.01 0.05 "
                 "0.1 0.2); class-balanced, round(fraction × class size) per class, ≥ 1."),
    draws: int = typer.Option(3, help="Draws of the labelled samples per fraction (seeds "
                                      "0, 1, ...): the result is their mean ± std."),
    preset: str | None = typer.Option(
        None, help="Linear preset (see `skelssl eval linear --help`); default: the run's "
                   "eval.linear_preset."),
    stream: list[str] = typer.Option([], help="Encoder(s) to evaluate (default: all)."),
    weights: str = typer.Option("trained", help=WEIGHTS_HELP),
    seed: int = typer.Option(0, help="Seed of the classifier's init and batch order."),
    split: str = typer.Option("test", help=SPLIT_HELP),
    data: str | None = typer.Option(None, help=DATA_HELP),
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
    for name in _streams(run, stream):
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
    run_dir: Path = typer.Argument(..., help="Run directory of `skelssl pretrain`."),
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
                 "motion 0.4, bone 0.6)."),
    preset: str | None = typer.Option(
        None, help="Linear preset of every stream; default: the first run's "
                   "eval.linear_preset."),
    seed: int = typer.Option(0, help="Seed of each classifier's init and batch order."),
    out: Path | None = typer.Option(
        None, help="Result JSON; default: results/ensemble-<preset>-<streams>.json in the "
                   "first run."),
    split: str = typer.Option("test", help=SPLIT_HELP),
    data: str | None = typer.Option(None, help=DATA_HELP),
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

    weights = dict(_stream_weight(item) for item in weight)
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


def _stream_weight(item: str) -> tuple[str, float]:
    name, _, value = item.partition("=")
    try:
        return name, float(value)
    except ValueError:
        raise typer.BadParameter(f"{item!r}: expected STREAM=NUMBER",
                                 param_hint="--weight") from None


def _streams(run, requested: list[str]) -> list[str]:
    for name in requested:
        if name not in run.encoders:
            raise typer.BadParameter(f"no encoder {name!r}; this run has {sorted(run.encoders)}",
                                     param_hint="--stream")
    return requested or list(run.encoders)


plot_app = typer.Typer(help="Pictures of a run: t-SNE maps of its features, confusion "
                            "matrices of its results, ActCLR's actionlets.",
                       no_args_is_help=True)
app.add_typer(plot_app, name="plot")


@plot_app.command("tsne")
def plot_tsne(
    run_dir: Path = typer.Argument(..., help="Run directory of `skelssl pretrain`."),
    stream: list[str] = typer.Option([], help="Encoder(s) to map (default: all)."),
    split: str = typer.Option("test", help="train or test: whose samples to map."),
    weights: str = typer.Option("trained", help=WEIGHTS_HELP),
    max_points: int = typer.Option(2000, help="At most this many samples, balanced over "
                                              "classes (t-SNE is quadratic in samples)."),
    perplexity: float = typer.Option(30.0, help="t-SNE perplexity (effective neighbours)."),
    seed: int = typer.Option(0, help="Seed of the sample choice and of t-SNE."),
    out: Path | None = typer.Option(
        None, help="PNG file (one stream only); default: results/tsne-<weights>-<stream>-"
                   "<split>.png in the run."),
    data: str | None = typer.Option(None, help=DATA_HELP),
) -> None:
    """t-SNE map of frozen features, one colour per class.

    Features are L2-normalised, as kNN sees them. Compare with --weights random to see what
    pretraining changed.

    \b
    Example:
      skelssl plot tsne runs/skeletonclr/nw-ucla-seed0
    """
    from skelssl.eval.plots import run_tsne
    from skelssl.eval.protocol import load_run

    run = load_run(run_dir, weights, data)
    streams = _streams(run, stream)
    if out is not None and len(streams) > 1:
        raise typer.BadParameter(f"one file for {len(streams)} streams; add --stream",
                                 param_hint="--out")
    for name in streams:
        path = run_tsne(run, name, split, max_points, perplexity, seed, out)
        typer.echo(f"t-SNE {name} [{weights}] → {path}")


@plot_app.command("actionlet")
def plot_actionlet(
    run_dir: Path = typer.Argument(..., help="Run directory of an ActCLR pretraining."),
    sample: int = typer.Option(0, help="Which sequence of the split (0-based)."),
    split: str = typer.Option("test", help="train or test: whose sequence."),
    out: Path | None = typer.Option(None, help="Folder; default: results/ in the run."),
    view: str = typer.Option("front", help="front, side or top."),
) -> None:
    """A sequence with its actionlet (ActCLR): where the run finds the motion, frame by frame.

    Writes actionlet-<split>-<sample>.png (a strip of frames) and .gif (the whole sequence),
    the joints coloured by the actionlet (bright: in it), and average-motion.png: the static
    anchor the actionlet is measured against.

    \b
    Example:
      skelssl plot actionlet runs/actclr/nw-ucla-seed0 --sample 12
    """
    from skelssl.engine.actionlets import sample_actionlet
    from skelssl.engine.run_dir import final_stage_dir
    from skelssl.viz import save_sequence_picture

    found = sample_actionlet(run_dir, sample, split)
    layout = found.layout
    folder = out or final_stage_dir(run_dir) / "results"
    folder.mkdir(parents=True, exist_ok=True)
    stem = folder / f"actionlet-{split}-{sample}"
    for suffix in (".png", ".gif"):
        path = save_sequence_picture(found.joints, layout, stem.with_suffix(suffix),
                                     f"{found.name}: actionlet", view=view,
                                     joint_values=found.actionlet)
        typer.echo(f"actionlet → {path}")
    path = save_sequence_picture(found.anchor, layout, folder / "average-motion.png",
                                 "average motion (the static anchor)", view=view)
    typer.echo(f"average motion → {path}")


@plot_app.command("confusion")
def plot_confusion(
    results: list[Path] = typer.Argument(
        ..., help="Results JSON of `skelssl eval linear` or `skelssl eval knn`."),
    data: str | None = typer.Option(None, help=DATA_HELP),
) -> None:
    """Confusion matrix of a linear or kNN result, as a PNG beside it.

    Rows: true class; colour: share of that class. `skelssl eval` draws it already; this
    redraws it.

    \b
    Example:
      skelssl plot confusion runs/crrl/nw-ucla-seed0/results/*.json
    """
    from skelssl.eval.plots import result_confusion

    for path in results:
        typer.echo(f"{path} → {result_confusion(path, data)}")


@app.command()
def demo(
    out: Path = typer.Option(Path("runs/demo"), "--out", "-o", help="Where data and run go."),
    epochs: int = typer.Option(None, help="Pretraining epochs (default: the demo's)."),
) -> None:
    """Synthetic data → SkeletonCLR pretraining → linear + kNN, against random weights."""
    from skelssl.demo import run_demo

    typer.echo(run_demo(out, epochs))


@app.command()
def version() -> None:
    """Print the skelssl version."""
    typer.echo(__version__)


def one_line_paragraphs(text: str) -> str:
    """Help text with every paragraph on one line, so that the terminal wraps it; a paragraph
    that starts with \\b (a block of example commands) keeps its line breaks."""
    paragraphs = cleandoc(text).split("\n\n")
    return "\n\n".join(p.removeprefix("\b").strip("\n") if p.startswith("\b")
                       else " ".join(p.split()) for p in paragraphs)


def _tidy_help(group: typer.Typer) -> None:
    """Apply one_line_paragraphs to the help of every command of ``group`` and its subgroups."""
    for command in group.registered_commands:
        command.help = one_line_paragraphs(command.help or command.callback.__doc__ or "")
    for subgroup in group.registered_groups:
        if subgroup.typer_instance is not None:
            _tidy_help(subgroup.typer_instance)


_tidy_help(app)


def main() -> None:
    """Entry point: user errors (and file-system errors) become one clear line on stderr and
    the error's exit status; anything else is a bug and shows its traceback."""
    from skelssl.errors import UserError

    try:
        app(standalone_mode=False)
    except typer.Abort:
        typer.echo("aborted", err=True)
        sys.exit(130)
    except UserError as error:
        typer.echo(f"error: {error}", err=True)
        sys.exit(error.exit_code)
    except OSError as error:  # a path that is not there, not writable, a full disk
        typer.echo(f"error: {error}", err=True)
        sys.exit(2)
    except typer.Exit as done:
        sys.exit(done.exit_code)
    except Exception as error:
        # Usage errors (unknown option, bad value) are click exceptions; typer vendors click in
        # recent releases, so they are recognised by their interface rather than their class.
        message, code = getattr(error, "format_message", None), getattr(error, "exit_code", None)
        if callable(message) and isinstance(code, int):
            context = getattr(error, "ctx", None)
            where = f" (see `{context.command_path} --help`)" if context is not None else ""
            typer.echo(f"error: {' '.join(str(message()).split())}{where}", err=True)
            sys.exit(code)
        raise
