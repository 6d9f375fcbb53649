"""benchmarks/leaderboard.py: how results rows become leaderboard lines."""

import json


def board_row(variant: str, seeds: list[int], mean: float, protocol: str = "linear") -> dict:
    return {"dataset": "nw-ucla", "board": True, "variant": variant, "epoch": "final",
            "metric": "top1", "config": "configs/viewclr/nw-ucla.yaml", "overrides": [],
            "seeds": seeds, "protocol": protocol, "preset": "crrl-std", "k": 1, "mean": mean}


def test_a_remark_in_brackets_joins_the_line_of_the_same_setting(tmp_path, benchmark):
    leaderboard = benchmark("leaderboard")
    (tmp_path / "first-look.json").write_text(json.dumps(
        [board_row("ViewCLR · wide", [0], 75.4), board_row("ViewCLR · wide", [0], 70.0, "knn")]))
    (tmp_path / "three-seeds.json").write_text(json.dumps(
        [board_row("ViewCLR · wide (best on validation)", [0, 1, 2], 71.4),
         board_row("ViewCLR · wide (best on validation)", [0, 1, 2], 70.3, "knn"),
         board_row("ViewCLR · (a,b) random", [0], 60.0)]))
    lines = leaderboard.collect(tmp_path, "nw-ucla")
    labels = sorted(line.label for line in lines.values())
    assert labels == ["ViewCLR · (a,b) random", "ViewCLR · wide (best on validation)"]
    wide = next(line for line in lines.values() if line.label.startswith("ViewCLR · wide"))
    assert wide.cells["linear"]["mean"] == 71.4 and wide.cells["knn"]["mean"] == 70.3


def test_a_line_of_one_encoder_of_a_multi_encoder_run_names_that_encoder(tmp_path, benchmark):
    leaderboard = benchmark("leaderboard")
    rows = [{**board_row(f"ISC · inter · {stream}", [0], 70.0), "stream": stream,
             "config": "configs/isc/nw-ucla-quarter.yaml"}
            for stream in ("sequence", "graph", "sequence+graph")]
    (tmp_path / "isc.json").write_text(json.dumps(rows))
    lines = leaderboard.collect(tmp_path, "nw-ucla")
    encoders = {line.label: leaderboard.encoder_of(line) for line in lines.values()}
    assert encoders == {"ISC · inter · sequence": "bigru", "ISC · inter · graph": "agcn",
                        "ISC · inter · sequence+graph": "bigru+agcn"}
    joint = leaderboard.Line("AimCLR · joint", "configs/aimclr/nw-ucla-agcn.yaml",
                             stream="joint+motion+bone")  # streams of one encoder slot
    assert leaderboard.encoder_of(joint) == "agcn"


def test_a_random_floor_of_a_multi_encoder_config_names_its_own_encoder(benchmark):
    leaderboard = benchmark("leaderboard")
    isc = {"variant": "random weights", "encoder": {"sequence": "bigru", "graph": "agcn"},
           "stream": "graph"}
    single = {"variant": "random weights", "encoder": {"encoder": "agcn"}, "stream": "motion"}
    assert leaderboard.floor_label(isc) == "random weights · agcn · graph"
    assert leaderboard.floor_label(single) == "random weights · agcn · motion"


def test_an_ensemble_of_separate_runs_costs_all_of_them(tmp_path, benchmark):
    leaderboard = benchmark("leaderboard")
    config = "configs/aimclr/nw-ucla-agcn.yaml"
    rows = [{**board_row("AimCLR · joint", [0], 80.0), "config": config},
            {**board_row("AimCLR · 3-stream ensemble", [0], 85.0), "config": config,
             "stream": "joint+motion+bone", "members": ["a", "b", "c"]}]
    (tmp_path / "aimclr.json").write_text(json.dumps(rows))
    (tmp_path / "pretrain-cost.json").write_text(json.dumps([
        {"metric": "seconds_per_seed", "config": config, "overrides": [], "epochs": [60],
         "seconds_per_epoch": [40.0], "mean": 2400.0}]))
    lines = leaderboard.collect(tmp_path, "nw-ucla")
    for line in lines.values():
        line.epochs = "60"
    leaderboard.attach_costs(lines, tmp_path)
    costs = {line.label: line.cost_s for line in lines.values()}
    assert costs == {"AimCLR · joint": 2400.0, "AimCLR · 3-stream ensemble": 7200.0}


def test_a_carried_row_counts_only_on_the_page_it_was_measured_for(tmp_path, benchmark):
    leaderboard = benchmark("leaderboard")
    carried = {**board_row("SkeletonCLR · joint", [0, 1, 2], 79.5), "carried_from": "first"}
    (tmp_path / "later.json").write_text(json.dumps(
        [carried, board_row("ActCLR · joint", [0, 1, 2], 83.5)]))
    lines = leaderboard.collect(tmp_path, "nw-ucla")
    assert [line.label for line in lines.values()] == ["ActCLR · joint"]
