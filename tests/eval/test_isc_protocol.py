"""ISC's linear protocol: trained on random crop-resizes, tested on centre crops."""

from __future__ import annotations

import pytest

from skelssl.eval.protocol import load_run


def test_the_isc_linear_protocol_trains_on_crops_and_tests_on_centre_crops(tiny_run,
                                                                          monkeypatch):
    from skelssl.eval import linear
    from skelssl.eval.protocol import linear_probe

    fast = linear.LinearPreset(lr=0.5, batch_size=8, epochs=2, milestones=(1,), gamma=0.1,
                               crops=True)
    monkeypatch.setitem(linear.LINEAR_PRESETS, "fast-crops", fast)
    run = load_run(tiny_run)
    first = linear_probe(run, "joint", "fast-crops", seed=0, progress=False)
    again = linear_probe(run, "joint", "fast-crops", seed=0, progress=False)
    assert first["features"] == "crops, recomputed every batch"
    assert 0 <= first["top1"] <= 100 and first["curve"] == again["curve"]  # seeded crops
    assert linear.get_preset("isc").crops and linear.get_preset("isc").epochs == 80


def test_protocol_crops_keep_a_fixed_length_when_the_data_keeps_stored_frames(
        prepared_synthetic):
    """With data.frames: 0 a batch is as long as its longest sequence; ISC's crops are then
    resampled to the length the method's own views had, not to that."""
    from types import SimpleNamespace

    from conftest import tiny_config, tiny_isc_config
    from skelssl.config import load_config
    from skelssl.eval.protocol import crop_frames

    def run(values, frames):
        values["data"]["frames"] = frames
        return SimpleNamespace(config=load_config(values))

    isc = tiny_isc_config(prepared_synthetic, frames=12)
    assert crop_frames(run(isc, 20)) == 20  # the preprocessed length, as before
    assert crop_frames(run(isc, 0)) == 12  # ISC's method.frames
    assert crop_frames(run(tiny_config(prepared_synthetic), 0)) == 64  # ISC's default


@pytest.mark.slow
def test_two_representations_fuse_like_streams(tmp_path, prepared_synthetic, fast_preset):
    """ISC's Table 10: the logits of the sequence and graph probes, summed with equal
    weights by default."""
    from conftest import tiny_config
    from skelssl.config import load_config
    from skelssl.engine.trainer import pretrain
    from skelssl.eval.ensemble import ensemble_eval

    values = tiny_config(prepared_synthetic, train={"epochs": 1})
    del values["encoder"]
    values["method"] = {"name": "isc", "queue_size": 32, "projection_dim": 8, "frames": 12}
    values["encoders"] = {"sequence": {"name": "bigru", "hidden_size": 8, "layers": 1,
                                       "dropout": 0.0, "pooling": "last"},
                          "graph": {"name": "agcn", "base_channels": 4, "feature_dim": 16},
                          "image": {"name": "hcn", "channels": 4, "window": 12, "grid": 2}}
    pretrain(load_config(values), tmp_path / "isc", progress=False)
    result = ensemble_eval([load_run(tmp_path / "isc")], fast_preset, progress=False)
    assert result["weights"] == {"sequence": 1.0, "graph": 1.0}
    assert 0 <= result["ensembles"]["sequence+graph"] <= 100


@pytest.mark.slow
def test_knn_and_retrieval_on_centre_crops_are_their_own_results(tiny_run):
    import subprocess
    import sys

    from skelssl.eval.protocol import knn_eval, retrieval_eval, write_result

    run = load_run(tiny_run)
    plain, centre = knn_eval(run, "joint", 1, 0.1), knn_eval(run, "joint", 1, 0.1, centre=True)
    assert centre["crop"] == "centre" and plain["crop"] is None
    assert write_result(run, centre).name == "knn-k1-centre-trained-joint.json"
    found = retrieval_eval(run, "joint", centre=True)
    assert abs(found["top1"] - centre["top1"]) < 1e-4  # retrieval top-1 is 1-NN
    done = subprocess.run([sys.executable, "-m", "skelssl", "eval", "retrieval", str(tiny_run),
                           "--centre-crop"], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0 and "retrieval-cosine-centre" in done.stdout
