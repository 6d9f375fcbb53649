"""benchmarks/isc_instance_signal.py: own-key identification of every pair of an ISC state."""

import math

import pytest
import yaml

from conftest import tiny_isc_config


@pytest.fixture
def signal(benchmark):
    return benchmark("isc_instance_signal")


def isc_config(tmp_path, data_path, **method):
    path = tmp_path / "isc.yaml"
    path.write_text(yaml.safe_dump(tiny_isc_config(data_path, **method)))
    return path


def test_unaugmented_views_at_init_find_their_own_key_within_a_representation(
        signal, tmp_path, prepared_synthetic):
    path = isc_config(tmp_path, prepared_synthetic, crop_resize=False, pose=False, jitter=False)
    config, method, epoch, trained = signal.load_state(f"init:{path}")
    assert (epoch, trained) == (0, False)
    found = signal.pair_signals(config, method, 8, 0, trained)
    assert set(found) == {(a, b) for a in ("sequence", "graph") for b in ("sequence", "graph")}
    for name in ("sequence", "graph"):  # the same view through identical encoders: q = k
        assert found[(name, name)]["top1"] == pytest.approx(1.0)
        assert found[(name, name)]["gap"] > 0
    assert "queue_infonce" not in found[("sequence", "graph")]


def test_a_trained_run_is_measured_against_its_queues_and_paged(signal, tmp_path,
                                                                prepared_synthetic,
                                                                monkeypatch):
    from skelssl.config import load_config
    from skelssl.engine.trainer import pretrain

    path = isc_config(tmp_path, prepared_synthetic)
    run_dir = tmp_path / "run"
    pretrain(load_config(path), run_dir, progress=False)
    config, method, epoch, trained = signal.load_state(str(run_dir))
    assert (epoch, trained) == (1, True)
    found = signal.pair_signals(config, method, 8, 0, trained)
    for values in found.values():
        assert 0 <= values["top1"] <= 1 and math.isfinite(values["queue_infonce"])
    out = tmp_path / "out"
    monkeypatch.setattr("sys.argv", ["isc_instance_signal.py", "--state", f"init=init:{path}",
                                     "--state", f"one epoch={run_dir}", "--batch", "8",
                                     "--topic", "signal", "--out", str(out)])
    signal.main()
    lines = [line for line in (out / "signal.md").read_text().splitlines()
             if line.startswith(("| init", "| one epoch"))]
    assert len(lines) == 8 and "| – | – |" in lines[0] and f"/ {math.log(13):.2f} |" in lines[-1]
