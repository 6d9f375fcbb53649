"""``skelssl pretrain`` and ``skelssl config show``: a config checked, then trained."""

from __future__ import annotations

from pathlib import Path

import typer

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
