"""Multi-stage pretraining: a config whose ``stages`` each train one run, in order.

A pipeline config holds the shared sections (``encoder``, ``data``, ``eval``, ``seed``) and a
``stages`` mapping; each stage gives its own ``method`` and ``train`` sections::

    stages:
      cml: {method: {name: crrl, contrast: true}, train: {epochs: 100, lr: 0.01}}
      ser: {method: {name: crrl, reconstruct: both, teacher: cml}, train: {...}}

A method's ``teacher`` or ``init`` naming an earlier stage becomes that stage's run directory
``RUN_DIR/<stage>``. Each stage is an ordinary run directory; a finished stage is skipped, so
``--resume RUN_DIR`` continues at whichever stage was interrupted. Evaluation of ``RUN_DIR``
uses the last stage.
"""

from __future__ import annotations

import copy
from pathlib import Path

import yaml

from skelssl.config import (
    ConfigError,
    RunConfig,
    apply_overrides,
    load_config,
    read_yaml,
    to_dict,
)
from skelssl.engine.checkpoint import finished_epochs
from skelssl.engine.run_dir import CONFIG_FILE, PIPELINE_FILE, write_text_atomic
from skelssl.engine.trainer import pretrain

STAGE_KEYS = ("method", "train")
SOURCE_KEYS = ("teacher", "init")
COMPARED_SECTIONS = ("method", "encoder", "data", "seed")
HOW_READ = {"data": ("workers",)}  # how a run reads its data, not what it learns from


def is_pipeline(values: dict) -> bool:
    return "stages" in values


def stage_configs(values: dict, run_dir: Path, where: str = "config"
                  ) -> list[tuple[str, RunConfig]]:
    """One validated run config per stage, in order, with stage references resolved."""
    stages = values.get("stages")
    if not isinstance(stages, dict) or not stages:
        raise ConfigError(f"{where}.stages: expected a mapping of stage name → "
                          "{method: ..., train: ...}")
    shared = {key: value for key, value in values.items() if key != "stages"}
    for key in STAGE_KEYS:
        if key in shared:
            raise ConfigError(f"{where}.{key}: a pipeline sets '{key}' inside each stage")
    result: list[tuple[str, RunConfig]] = []
    for name, stage in stages.items():
        here = f"{where}.stages.{name}"
        if not isinstance(stage, dict):
            raise ConfigError(f"{here}: expected a mapping with method and train")
        unknown = sorted(set(stage) - set(STAGE_KEYS))
        if unknown:
            raise ConfigError(f"{here}.{unknown[0]}: unknown key (a stage holds "
                              f"{' and '.join(STAGE_KEYS)})")
        merged = copy.deepcopy(shared) | copy.deepcopy(stage)
        method = merged.get("method")
        if isinstance(method, dict):
            for key in SOURCE_KEYS:
                source = method.get(key)
                if source in stages:
                    if source not in [done for done, _ in result]:
                        raise ConfigError(f"{here}.method.{key}: stage {source!r} must come "
                                          "before this one")
                    method[key] = str(run_dir / source)
        result.append((name, load_config(merged, where=here)))
    return result


def load_pipeline(source: Path, overrides: list[str] | None = None) -> dict:
    """A pipeline config's values with ``--set`` overrides applied (``stages.cml.train.lr=...``)."""
    return apply_overrides(read_yaml(source), overrides or [])


def _identity(config: RunConfig) -> dict:
    """The sections that make a run what it is, without the settings of how it was read."""
    values = to_dict(config)
    for section, keys in HOW_READ.items():
        values[section] = {k: v for k, v in values[section].items() if k not in keys}
    return values


def _check_same_run(stage_dir: Path, config: RunConfig) -> None:
    """A stage directory that already holds a run must hold this stage's run."""
    existing = stage_dir / CONFIG_FILE
    if not existing.is_file():
        return
    before, now = _identity(load_config(existing)), _identity(config)
    changed = [key for key in COMPARED_SECTIONS if before[key] != now[key]]
    if changed:
        raise ConfigError(f"{stage_dir} holds a run with different {', '.join(changed)} "
                          "settings; use a new run directory")


def run_pipeline(values: dict, run_dir: Path, progress: bool = True) -> list[tuple[str, int]]:
    """Train every unfinished stage in order; returns (stage, epochs done) per stage."""
    stages = stage_configs(values, run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    write_text_atomic(run_dir / PIPELINE_FILE, yaml.safe_dump(values, sort_keys=False))
    done = []
    for name, config in stages:
        stage_dir = run_dir / name
        _check_same_run(stage_dir, config)
        epochs = finished_epochs(stage_dir)
        if epochs is None or epochs < config.train.epochs:
            if progress:
                print(f"stage {name}: training into {stage_dir}", flush=True)
            history = pretrain(config, stage_dir, resume=True, progress=progress)
            epochs = int(history[-1]["epoch"]) if history else 0
        elif progress:
            print(f"stage {name}: already trained ({epochs} epochs) in {stage_dir}", flush=True)
        done.append((name, epochs))
    return done
