"""benchmarks/floors.py: random-weight floors of one config under different overrides."""

import yaml

from conftest import tiny_config


def test_each_override_gets_its_own_random_runs(tmp_path, prepared_synthetic, fast_preset,
                                                benchmark):
    floors = benchmark("floors")
    config = tmp_path / "configs" / "tiny.yaml"
    config.parent.mkdir()
    config.write_text(yaml.safe_dump(tiny_config(prepared_synthetic)))
    runs = tmp_path / "runs"
    motion = floors.random_floor(config, ["method.stream=motion"], [0], runs, fast_preset, 1)
    bone = floors.random_floor(config, ["method.stream=bone"], [0], runs, fast_preset, 1)
    assert {stream for stream, _ in motion} == {"motion"}
    assert {stream for stream, _ in bone} == {"bone"}
    assert len(list(runs.iterdir())) == 2


def test_a_yaml_list_override_names_its_runs_without_glob_characters(benchmark):
    results = benchmark("results")
    name = results.setting_name(["isc", "nw-ucla-quarter",
                                 "method.representations=[sequence,image]", "encoder.hidden=64"])
    assert name == "isc-nw-ucla-quarter-method.representations=_sequence_image_-encoder.hidden=64"
    assert results.setting_name(["nw-ucla-agcn", "train.warmup_epochs=10"]) == \
        "nw-ucla-agcn-train.warmup_epochs=10"  # runs named before keep their names
