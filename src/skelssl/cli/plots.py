"""``skelssl plot ...``: pictures of a run (t-SNE maps, confusion matrices, actionlets)."""

from __future__ import annotations

from pathlib import Path

import typer

from skelssl.cli.evaluate import DATA_HELP, WEIGHTS_HELP, chosen_streams

plot_app = typer.Typer(help="Pictures of a run: t-SNE maps of its features, confusion "
                            "matrices of its results, ActCLR's actionlets.",
                       no_args_is_help=True)


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
    streams = chosen_streams(run, stream)
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
    the joints coloured by the actionlet (deep red: in it), and average-motion.png: the static
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
