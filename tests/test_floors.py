"""benchmarks/floors.py: random-weight floors of one config under different overrides."""

import yaml

from conftest import tiny_config, tiny_isc_config


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


def test_split_floors_make_one_random_run_per_seed_and_reuse_it(tmp_path, prepared_synthetic,
                                                               fast_preset, benchmark):
    recipe = benchmark("recipe_nw_ucla")
    config = tmp_path / "tiny.yaml"
    config.write_text(yaml.safe_dump(tiny_config(prepared_synthetic)))
    runs = tmp_path / "runs"
    floors = recipe.split_floors(config, ("method.stream=motion",), [0, 1], runs, fast_preset,
                                 "val")
    assert sorted(path.name for path in runs.iterdir()) == [
        "random-tiny-method.stream=motion-seed0", "random-tiny-method.stream=motion-seed1"]
    assert [len(values) for values in floors["random weights"].values()] == [2, 2]
    assert set(floors["raw coordinates"]) == {"val_1nn", "val_linear"}
    weights = runs / "random-tiny-method.stream=motion-seed0" / "encoder.pt"
    stamp = weights.stat().st_mtime_ns
    again = recipe.split_floors(config, ("method.stream=motion",), [0], runs, fast_preset, "val")
    assert weights.stat().st_mtime_ns == stamp  # not made again
    assert again["random weights"]["val_1nn"] == floors["random weights"]["val_1nn"][:1]


def test_a_multi_encoder_config_gets_a_random_floor_per_encoder(tmp_path, prepared_synthetic,
                                                               fast_preset, benchmark):
    recipe = benchmark("recipe_nw_ucla")
    config = tmp_path / "isc.yaml"
    config.write_text(yaml.safe_dump(tiny_isc_config(prepared_synthetic)))
    floors = recipe.split_floors(config, (), [0], tmp_path / "runs", fast_preset, "val")
    assert list(floors) == ["raw coordinates", "random weights · sequence",
                            "random weights · graph"]
    assert all(len(floor["val_linear"]) == 1 for floor in floors.values())
