"""The ``skelssl`` command: its subcommands put together (each group in a module of its own)
and the entry point that turns a user's mistake into one line."""

from __future__ import annotations

import sys
from inspect import cleandoc
from pathlib import Path

import typer

from skelssl import __version__
from skelssl.cli import datasets, evaluate, plots, training

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
app.command(help=datasets.PREPARE_HELP)(datasets.prepare)
app.command()(datasets.inspect)
app.command(help=training.PRETRAIN_HELP)(training.pretrain)
app.add_typer(training.config_app, name="config")
app.add_typer(evaluate.eval_app, name="eval")
app.add_typer(plots.plot_app, name="plot")


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
