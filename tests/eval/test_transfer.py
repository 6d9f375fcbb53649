"""Transfer: a run evaluated on another dataset of its layout; other layouts are refused with
the command that maps them."""

import json

import pytest
from typer.testing import CliRunner

from skelssl.cli import app
from skelssl.data.prepare import PrepareOptions, prepare
from skelssl.errors import EvalError
from skelssl.eval.finetune import finetune
from skelssl.eval.transfer import check_target


@pytest.fixture(scope="module")
def other(tmp_path_factory):
    """Another synthetic dataset (other seed: other subjects' bodies and motions)."""
    path, _ = prepare("synthetic", tmp_path_factory.mktemp("target") / "other",
                      PrepareOptions(per_class=2, seed=11))
    return path


def test_linear_transfer_writes_its_own_result(tiny_run, other, fast_preset):
    result = CliRunner().invoke(app, ["eval", "transfer", str(tiny_run), "--target", str(other),
                                      "--preset", fast_preset])
    assert result.exit_code == 0, result.output
    path = tiny_run / "results" / f"transfer-other-linear-{fast_preset}-trained-joint.json"
    saved = json.loads(path.read_text())
    assert saved["protocol"] == "transfer-linear" and saved["dataset"] == str(other)
    assert len(saved["predictions"]) == len(json.loads((other / "meta.json").read_text())[
        "splits"]["xsub"]["test"])


def test_finetune_transfer_trains_on_the_target(tiny_run, other):
    result = finetune(tiny_run, "crossclr", "joint", epochs=1, progress=False,
                      target=str(other), benchmark="xview")
    assert result["protocol"] == "transfer-finetune" and result["benchmark"] == "xview"
    assert result["dataset"] == str(other)
    assert (tiny_run / "finetune" / "transfer-other-crossclr-trained-joint").is_dir()


def test_a_target_in_another_layout_is_refused_with_the_mapping_command(tiny_run, other,
                                                                       tmp_path):
    ucla, _ = prepare("relayout", tmp_path / "ucla", PrepareOptions(raw=other,
                                                                    layout="ucla20"))
    with pytest.raises(EvalError, match="map the target first: skelssl prepare relayout --raw "
                                        ".* --layout ntu25"):
        check_target(tiny_run, ucla)
    result = CliRunner().invoke(app, ["eval", "transfer", str(tiny_run), "--target", str(other),
                                      "--protocol", "knn"])
    assert result.exit_code != 0 and "expected one of linear, finetune" in result.output


def test_a_target_with_a_confidence_channel_is_refused_at_equal_channel_count(tiny_run,
                                                                              tmp_path):
    """2-D keypoints + confidence have C = 3 like the run's 3-D joints: still another input."""
    import numpy as np

    rng = np.random.default_rng(0)
    joints = np.concatenate([rng.uniform(0, 900, (6, 8, 25, 2)),
                             rng.uniform(0.1, 1, (6, 8, 25, 1))], axis=-1).astype(np.float32)
    np.savez(tmp_path / "k.npz", joints=joints, labels=np.arange(6) % 2, layout="ntu25",
             split=np.array(["train"] * 4 + ["test"] * 2))
    scored, _ = prepare("custom", tmp_path / "scored", PrepareOptions(raw=tmp_path / "k.npz",
                                                                      scores=True))
    with pytest.raises(EvalError, match="a keypoint confidence channel, but encoder .* was "
                                        "trained without one"):
        check_target(tiny_run, scored)
