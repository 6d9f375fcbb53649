import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conftest import NW_UCLA, needs_ucla, tiny_config
from skelssl.cli import app, one_line_paragraphs
from skelssl.errors import ConfigError, TrainingDiverged

runner = CliRunner()
CRRL_CONFIG = Path(__file__).resolve().parents[1] / "configs" / "crrl" / "nw-ucla.yaml"


@pytest.mark.slow
def test_prepare_and_inspect_synthetic_with_pictures(tmp_path):
    out = tmp_path / "syn"
    result = runner.invoke(app, ["prepare", "synthetic", "--out", str(out), "--per-class", "3"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["inspect", str(out), "--verify", "--sample", "40",
                                 "--save", str(tmp_path / "s.png")])
    assert result.exit_code == 0, result.output
    assert "split     xsub: train" in result.output and "checksum  ok" in result.output
    assert "persons   39 sample(s) with 1 · 9 sample(s) with 2" in result.output
    assert (tmp_path / "s.png").stat().st_size > 1000
    result = runner.invoke(app, ["inspect", str(out), "--sample", "syn000_000001",
                                 "--save", str(tmp_path / "s.gif")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "s.gif").read_bytes()[:3] == b"GIF"


def test_help_paragraphs_are_unwrapped_and_example_blocks_kept():
    text = """First line.

    A paragraph written
    over two lines.

    \b
    Example:
      skelssl demo
    """
    assert one_line_paragraphs(text) == ("First line.\n\nA paragraph written over two lines."
                                         "\n\nExample:\n  skelssl demo")
    wide = runner.invoke(app, ["pretrain", "--help"], env={"COLUMNS": "200"}).output
    assert "trains each stage into RUN_DIR/<stage> in order; --resume continues" in wide
    assert "\n   skelssl pretrain --resume runs/skeletonclr/nw-ucla-seed0" in wide


@pytest.mark.slow
def test_user_errors_are_one_line_and_exit_2(tmp_path):
    cmd = [sys.executable, "-c", "from skelssl.cli import main; main()"]
    bad = subprocess.run(cmd + ["prepare", "ntu61", "--out", str(tmp_path / "x")],
                         capture_output=True, text=True)
    assert bad.returncode == 2 and "Did you mean 'ntu60'" in bad.stderr
    missing = subprocess.run(cmd + ["inspect", str(tmp_path)], capture_output=True, text=True)
    assert missing.returncode == 2 and "not a prepared dataset" in missing.stderr
    no_raw = subprocess.run(cmd + ["prepare", "nw-ucla", "--out", str(tmp_path / "u")],
                            capture_output=True, text=True)
    assert no_raw.returncode == 2 and "needs --raw" in no_raw.stderr
    usage = subprocess.run(cmd + ["eval", "linear", str(tmp_path), "--quite"],
                           capture_output=True, text=True)
    assert usage.returncode == 2 and "No such option: --quite" in usage.stderr
    assert "Traceback" not in usage.stderr


@pytest.mark.parametrize("error, code", [
    (ConfigError("config.train.lr: expected float"), 2),
    (TrainingDiverged("loss became nan"), 3),
    (PermissionError(13, "Permission denied", "runs/x"), 2),
])
def test_user_and_file_errors_are_one_line_and_bugs_are_not(monkeypatch, capsys, error, code):
    import skelssl.cli

    def fail(**_):
        raise error

    monkeypatch.setattr(skelssl.cli, "app", fail)
    with pytest.raises(SystemExit) as stopped:
        skelssl.cli.main()
    assert stopped.value.code == code
    assert capsys.readouterr().err == f"error: {error}\n"
    monkeypatch.setattr(skelssl.cli, "app", lambda **_: int("a bug"))
    with pytest.raises(ValueError, match="invalid literal"):  # a bug keeps its traceback
        skelssl.cli.main()


@needs_ucla
@pytest.mark.slow
def test_nw_ucla_from_the_command_line(tmp_path):
    out = tmp_path / "ucla"
    result = runner.invoke(app, ["prepare", "nw-ucla", "--raw", str(NW_UCLA), "--out", str(out)])
    assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["inspect", str(out)])
    assert "samples   1484" in result.output and "view3: train 1020 · test 464" in result.output
    assert "min 1 · median 31" in result.output and "classes   10" in result.output


@pytest.mark.slow
def test_pretrain_then_evaluate_from_the_command_line(tmp_path, prepared_synthetic):
    from skelssl.config import dump_config, load_config

    config = tmp_path / "tiny.yaml"
    config.write_text(dump_config(load_config(tiny_config(prepared_synthetic))))
    run = tmp_path / "run"
    result = runner.invoke(app, ["pretrain", str(config), "--out", str(run),
                                 "--set", "train.epochs=1"])
    assert result.exit_code == 0, result.output
    assert "1/1 epochs done" in result.output
    assert f"skelssl pretrain → {run} (from the start)" in result.output  # the header
    assert "skeletonclr · encoder: stgcn" in result.output and "device cpu" in result.output
    for name in ("config.yaml", "run.json", "metrics.csv", "last.pt", "encoder.pt",
                 "curves.png"):
        assert (run / name).is_file(), name
    result = runner.invoke(app, ["eval", "linear", str(run)])
    assert result.exit_code == 0, result.output
    assert "linear crossclr joint [trained]: top-1" in result.output
    result = runner.invoke(app, ["eval", "linear", str(run), "--report", "best"])
    assert result.exit_code == 0, result.output
    assert "best test epoch" in result.output
    assert "the earlier result of the same encoder and settings" in result.output  # not rerun
    result = runner.invoke(app, ["eval", "knn", str(run), "--k", "1", "--weights", "random"])
    assert result.exit_code == 0, result.output
    assert "knn k=1 joint [random]" in result.output
    assert (run / "results" / "linear-crossclr-trained-joint.json").is_file()
    assert "confusion matrix: knn-k1-random-joint.png" in result.output
    assert (run / "results" / "knn-k1-random-joint.png").is_file()
    result = runner.invoke(app, ["eval", "knn", str(run), "--k", "1", "--split", "val"])
    assert result.exit_code == 0, result.output
    assert (run / "results" / "knn-k1-trained-joint-val.json").is_file()
    result = runner.invoke(app, ["plot", "tsne", str(run), "--max-points", "20",
                                 "--out", str(tmp_path / "map.png")])
    assert result.exit_code == 0 and (tmp_path / "map.png").is_file(), result.output
    linear = run / "results" / "linear-crossclr-trained-joint.json"
    linear.with_suffix(".png").unlink()
    result = runner.invoke(app, ["plot", "confusion", str(linear)])
    assert result.exit_code == 0 and linear.with_suffix(".png").is_file(), result.output
    result = runner.invoke(app, ["eval", "semi", str(run), "--fraction", "0.5", "--draws", "2"])
    assert result.exit_code == 0, result.output
    assert "semi crossclr joint [trained]: 50 % (" in result.output and " ± " in result.output
    assert (run / "results" / "semi-crossclr-trained-joint.json").is_file()
    result = runner.invoke(app, ["eval", "semi", str(run), "--fraction", "5"])
    assert result.exit_code != 0 and "expected a fraction in (0, 1]" in result.output
    result = runner.invoke(app, ["eval", "finetune", str(run), "--epochs", "1",
                                 "--label-fraction", "0.5"])
    assert result.exit_code == 0, result.output
    assert "finetune crossclr joint [trained]: top-1" in result.output
    assert (run / "results" / "finetune-crossclr-trained-joint-50pct-draw0.png").is_file()
    assert (run / "finetune" / "crossclr-trained-joint-50pct-draw0" / "curves.png").is_file()
    result = runner.invoke(app, ["eval", "knn", str(run), "--stream", "bone"])
    assert result.exit_code != 0 and "this run has ['joint']" in result.output


@pytest.mark.slow
def test_config_mistakes_exit_2_naming_the_key(tmp_path, prepared_synthetic):
    import yaml

    config = tmp_path / "bad.yaml"
    values = tiny_config(prepared_synthetic)
    values["train"]["epoch"] = 3
    config.write_text(yaml.safe_dump(values))
    cmd = [sys.executable, "-m", "skelssl", "pretrain", str(config), "--out", str(tmp_path / "r")]
    bad = subprocess.run(cmd, capture_output=True, text=True)
    assert bad.returncode == 2
    assert "train.epoch: unknown key; did you mean 'epochs'?" in bad.stderr


@pytest.mark.slow
def test_demo_runs_end_to_end(tmp_path):
    from skelssl.demo import run_demo

    table = run_demo(tmp_path / "demo", epochs=1, progress=False)
    assert "random weights" in table and "SkeletonCLR (1 epochs)" in table
    results = tmp_path / "demo" / "skeletonclr" / "results"
    assert len(list(results.glob("*.json"))) == 6
    assert "linear: crrl-std protocol" in table  # the probe is named under the table
    assert (results / "linear-crrl-std-trained-motion.json").is_file()
    assert len(list(results.glob("*.png"))) == 8  # 6 confusion matrices, 2 t-SNE maps
    assert (results / "tsne-random-motion-test.png").is_file()


@pytest.mark.slow
def test_a_two_stage_config_runs_resumes_and_evaluates_from_the_command_line(
        tmp_path, prepared_synthetic):
    tiny = ["--set", "encoder.hidden_size=4", "--set", f"data.path={prepared_synthetic}",
            "--set", "data.benchmark=xsub", "--set", "stages.cml.train.epochs=1",
            "--set", "stages.ser.train.epochs=1", "--set", "stages.cml.method.queue_size=8",
            "--set", "stages.cml.train.batch_size=8", "--set", "stages.ser.train.batch_size=8"]
    run = tmp_path / "crrl"
    result = runner.invoke(app, ["pretrain", str(CRRL_CONFIG), "--out", str(run),
                                 "--quiet", *tiny])
    assert result.exit_code == 0, result.output
    assert "stages done: cml 1 epochs, ser 1 epochs" in result.output
    assert (run / "pipeline.yaml").is_file() and (run / "ser" / "encoder.pt").is_file()
    result = runner.invoke(app, ["pretrain", "--resume", str(run), "--quiet",
                                 "--set", "stages.ser.train.epochs=2"])
    assert result.exit_code == 0, result.output
    assert "cml 1 epochs, ser 2 epochs" in result.output
    result = runner.invoke(app, ["eval", "knn", str(run), "--k", "1"])
    assert result.exit_code == 0, result.output
    assert f"{run / 'ser' / 'results'}" in result.output
    result = runner.invoke(app, ["pretrain", str(CRRL_CONFIG), "--out", str(tmp_path / "new"),
                                 "--until-epoch", "1"])
    message = " ".join(result.output.replace("│", " ").split())
    assert result.exit_code == 2 and "a multi-stage config runs every stage" in message
