"""The ``skelssl`` command."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from skelssl import __version__

app = typer.Typer(
    help="skelssl: self-supervised representation learning on human skeleton sequences.\n\n"
         "Start with `skelssl prepare synthetic --out data/synthetic` and "
         "`skelssl inspect data/synthetic`.",
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
  npy         (N,C,T,V,M) .npy (--raw) with --labels .npy/.pkl [--test-raw --test-labels]
  ctrgcn-npz  CTR-GCN .npz with x_train/y_train/x_test/y_test (--raw FILE)
  custom      bring-your-own .npz, see docs/data.md (--raw FILE)
  synthetic   procedural actions, generated (no --raw)

Damaged files are all listed and preparation stops, unless --skip-damaged.
Example: skelssl prepare nw-ucla --raw ../shared/data/nw-ucla/all_sqe --out data/nw-ucla
"""


@app.command(help=PREPARE_HELP)
def prepare(
    fmt: str = typer.Argument(..., metavar="FORMAT", help="Raw format (see above)."),
    out: Path = typer.Option(..., "--out", "-o", help="Directory to create."),
    raw: Path | None = typer.Option(None, help="Raw folder or file."),
    labels: Path | None = typer.Option(None, help="npy: labels of --raw (.npy or .pkl)."),
    test_raw: Path | None = typer.Option(None, help="npy: test-part data .npy."),
    test_labels: Path | None = typer.Option(None, help="npy: test-part labels."),
    layout: str | None = typer.Option(None, help="Layout name (ntu25, ucla20) or YAML file."),
    benchmark: str = typer.Option("default", help="npy/ctrgcn-npz: name of the split."),
    body_selection: str = typer.Option(
        "most-active", help="NTU: keep the 2 most active bodies, or the 'first' two."),
    exclude: Path | None = typer.Option(None, help="NTU: file of sample names to leave out."),
    workers: int | None = typer.Option(None, help="Processes for reading (default: all)."),
    seed: int = typer.Option(0, help="synthetic: random seed."),
    per_class: int = typer.Option(100, help="synthetic: samples per class."),
    skip_damaged: bool = typer.Option(False, help="Leave damaged files out (recorded)."),
    overwrite: bool = typer.Option(False, help="Replace a different dataset at --out."),
) -> None:
    from skelssl.data.prepare import PrepareOptions
    from skelssl.data.prepare import prepare as run_prepare

    opts = PrepareOptions(raw=raw, labels=labels, test_raw=test_raw, test_labels=test_labels,
                          layout=layout, benchmark=benchmark, body_selection=body_selection,
                          exclude=exclude, workers=workers, seed=seed, per_class=per_class,
                          skip_damaged=skip_damaged, overwrite=overwrite)
    path, written = run_prepare(fmt, out, opts)
    if written:
        typer.echo(f"prepared {fmt} dataset in {path}; look at it with `skelssl inspect {path}`")
    else:
        typer.echo(f"{path} already holds this dataset (pass --overwrite to rebuild)")


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


@app.command()
def version() -> None:
    """Print the skelssl version."""
    typer.echo(__version__)


def main() -> None:
    """Entry point: user errors become one clear line on stderr and exit status 2."""
    from skelssl.data.dataset import DatasetError
    from skelssl.data.prepare import PrepareError
    from skelssl.data.sequence import SampleError
    from skelssl.skeleton import LayoutError

    try:
        app(standalone_mode=False)
    except typer.Abort:
        typer.echo("aborted", err=True)
        sys.exit(130)
    except (PrepareError, DatasetError, SampleError, LayoutError, FileNotFoundError,
            ValueError) as error:
        typer.echo(f"error: {error}", err=True)
        sys.exit(2)
    except typer.Exit as done:
        sys.exit(done.exit_code)
    except Exception as error:  # click usage errors
        import click

        if isinstance(error, click.ClickException):
            error.show()
            sys.exit(error.exit_code)
        raise
