"""benchmarks/method_nw_ucla.py: a pipeline's stage shared with another variant's finished run."""

from pathlib import Path

import pytest


@pytest.fixture
def method_table(benchmark):
    return benchmark("method_nw_ucla")


def finished(runs: Path, name: str) -> Path:
    run = runs / name
    run.mkdir(parents=True)
    (run / "recipe.json").write_text("[]")
    return run


def test_a_shared_stage_links_the_finished_run_of_the_same_seed(method_table, tmp_path):
    for seed in (0, 1):
        finished(tmp_path, f"aimclr-seed{seed}")
    seeds = {"actclr": [0, 1], "aimclr": [0, 1]}
    method_table.share_stages(["actclr:aimclr=aimclr"], tmp_path, seeds)
    method_table.share_stages(["actclr:aimclr=aimclr"], tmp_path, seeds)  # again: no change
    for seed in (0, 1):
        stage = tmp_path / f"actclr-seed{seed}" / "aimclr"
        assert stage.is_symlink()
        assert stage.resolve() == (tmp_path / f"aimclr-seed{seed}").resolve()
        assert (stage / "recipe.json").is_file()


def test_an_unfinished_run_or_an_unknown_candidate_is_refused(method_table, tmp_path):
    finished(tmp_path, "aimclr-seed0")
    seeds = {"actclr": [0, 1], "aimclr": [0, 1]}
    with pytest.raises(SystemExit, match="aimclr-seed1 has not finished"):
        method_table.share_stages(["actclr:aimclr=aimclr"], tmp_path, seeds)
    with pytest.raises(SystemExit, match="expected NAME:STAGE=OTHER"):
        method_table.share_stages(["actclr=aimclr"], tmp_path, seeds)
    with pytest.raises(SystemExit, match="expected NAME:STAGE=OTHER"):
        method_table.share_stages(["isc:aimclr=aimclr"], tmp_path, seeds)


def test_a_run_with_several_encoders_gives_one_line_per_encoder(method_table):
    candidate = method_table.parse_variant("ISC · inter=isc,config=configs/isc/nw-ucla.yaml")[1]
    measured = [{"candidate": "isc", "seed": seed, "stream": stream, "test_linear": linear,
                 "test_1nn": linear - 10, "pretrain_s": 60.0}
                for seed in (0, 1) for stream, linear in (("sequence", 70.0 + seed),
                                                          ("graph", 80.0 + seed))]
    lines = method_table.lines_of("ISC · inter", candidate, measured)
    assert [(label, stream, len(rows)) for label, stream, rows in lines] == [
        ("ISC · inter · sequence", "sequence", 2), ("ISC · inter · graph", "graph", 2)]
    label, stream, rows = lines[1]
    linear, nearest = method_table.board_rows(label, candidate, rows, "crrl-std", stream)
    assert linear["stream"] == "graph" and linear["mean"] == 80.5 and nearest["mean"] == 70.5
    single = [row for row in measured if row["stream"] == "graph"]
    assert method_table.lines_of("ISC · inter", candidate, single) == [
        ("ISC · inter", None, single)]


def test_isc_protocols_reach_runs_scored_before_once(method_table, tmp_path, tiny_run,
                                                      monkeypatch):
    import json
    import shutil

    import recipe_nw_ucla

    from skelssl.eval import linear

    fast = linear.LinearPreset(lr=0.5, batch_size=8, epochs=2, milestones=(1,), gamma=0.1,
                               crops=True)
    monkeypatch.setitem(linear.LINEAR_PRESETS, "isc", fast)
    shutil.copytree(tiny_run, tmp_path / "tiny-seed0")
    store = tmp_path / "tiny-seed0" / "recipe.json"
    store.write_text(json.dumps([{"candidate": "tiny", "seed": 0, "stream": "joint",
                                  "test_linear": 50.0, "test_1nn": 40.0}]))
    candidate = recipe_nw_ucla.parse_candidate("tiny", Path("unused.yaml"))
    [row] = recipe_nw_ucla.train_and_score(candidate, 0, tmp_path, "crrl-std", "test", isc=True)
    assert 0 <= row["test_linear_isc"] <= 100 and 0 <= row["test_1nn_centre"] <= 100
    assert row["test_linear"] == 50.0  # the earlier scores stay
    assert json.loads(store.read_text()) == [row]

    def no_probe(*args, **kwargs):
        raise AssertionError("scored again")

    monkeypatch.setattr(recipe_nw_ucla, "linear_probe", no_probe)
    assert recipe_nw_ucla.train_and_score(candidate, 0, tmp_path, "crrl-std", "test",
                                          isc=True) == [row]
    lines = method_table.lines_of("Tiny", candidate, [row])
    linear_isc, centre = method_table.isc_rows("Tiny", candidate, lines[0][2])
    assert linear_isc["preset"] == "isc" and not linear_isc["board"] and centre["crop"] == "centre"


def test_a_candidate_may_override_with_a_yaml_list(method_table):
    import recipe_nw_ucla

    candidate = recipe_nw_ucla.parse_candidate(
        "isc-triple,config=configs/isc/nw-ucla-quarter.yaml,"
        "method.representations=[sequence,graph,image],method.intra=true", Path("unused.yaml"))
    assert candidate.name == "isc-triple"
    assert candidate.config == Path("configs/isc/nw-ucla-quarter.yaml")
    assert candidate.overrides == ("method.representations=[sequence,graph,image]",
                                   "method.intra=true")
    values = recipe_nw_ucla.candidate_values(candidate.config, candidate.overrides, 0, "test")
    assert values["method"]["representations"] == ["sequence", "graph", "image"]


def test_scored_only_writes_an_interim_page_of_the_runs_scored_so_far(method_table, tmp_path,
                                                                      monkeypatch, capsys):
    import json

    runs, out = tmp_path / "runs", tmp_path / "out"
    for seed, linear in ((0, 80.0), (1, 82.0)):
        (finished(runs, f"aimclr-seed{seed}") / "recipe.json").write_text(json.dumps([
            {"candidate": "aimclr", "seed": seed, "stream": "joint", "test_linear": linear,
             "test_1nn": linear - 5, "pretrain_s": 600.0}]))
    spec = "config=configs/aimclr/nw-ucla-agcn.yaml"
    monkeypatch.setattr("sys.argv", [
        "method_nw_ucla.py", "--topic", "interim", "--runs", str(runs), "--out", str(out),
        "--scored-only", "--variant", f"AimCLR · joint=aimclr,{spec}",
        "--variant", f"AimCLR · bone=aimclr-bone,{spec},method.stream=bone",
        "--ensemble", "AimCLR · 2-stream=AimCLR · joint+AimCLR · bone",
        "--share-stage", "actclr:aimclr=aimclr-bone"])  # unfinished: not linked, not refused
    method_table.main()
    page = (out / "interim.md").read_text()
    assert "still to come: aimclr (seed 2); aimclr-bone (seeds 0, 1, 2)." in page
    [line] = [line for line in page.splitlines() if line.startswith("| AimCLR")]
    assert "81.0 ± 1.4 (80.0, 82.0)" in line and "| 2 | 10 |" in line
    rows = json.loads((out / "interim.json").read_text())
    assert [(row["protocol"], row["seeds"]) for row in rows] == [("linear", [0, 1]),
                                                                 ("knn", [0, 1])]
    assert not (runs / "actclr-seed0").exists()


def test_a_carried_line_keeps_its_page_command_and_commit(method_table, tmp_path, monkeypatch):
    import json

    runs, out, earlier = tmp_path / "runs", tmp_path / "out", tmp_path / "aimclr-page.json"
    (finished(runs, "actclr-seed0") / "recipe.json").write_text(json.dumps([
        {"candidate": "actclr", "seed": 0, "stream": "joint", "test_linear": 84.0,
         "test_1nn": 80.0, "pretrain_s": 1200.0}]))
    line = {"variant": "SkeletonCLR · joint", "board": True, "dataset": "nw-ucla",
            "config": "configs/skeletonclr/nw-ucla-agcn.yaml", "overrides": [],
            "command": "python benchmarks/method_nw_ucla.py --topic aimclr-nw-ucla",
            "commit": "abc1234", "pretrain_s_per_seed": 6480.0, "wall_time_s": 9.0}
    earlier.write_text(json.dumps([
        {**line, "protocol": "linear", "preset": "crrl-std", "mean": 79.5, "std": 1.1,
         "values": [80.6, 78.4]},
        {**line, "protocol": "knn", "k": 1, "mean": 82.0, "std": 2.5, "values": [84.7, 80.0]},
        {**line, "variant": "AimCLR · joint", "protocol": "linear", "preset": "crrl-std",
         "mean": 85.8, "std": None, "values": [85.8]}]))
    monkeypatch.setattr("sys.argv", [
        "method_nw_ucla.py", "--topic", "actclr", "--runs", str(runs), "--out", str(out),
        "--scored-only", "--seeds", "0", "--carry", f"SkeletonCLR · joint={earlier}",
        "--variant", "ActCLR · joint=actclr,config=configs/actclr/nw-ucla-agcn.yaml"])
    method_table.main()
    table = [row for row in (out / "actclr.md").read_text().splitlines() if row.startswith("| ")]
    assert table[1].startswith("| SkeletonCLR · joint | `configs/skeletonclr/nw-ucla-agcn.yaml`, "
                               "from [aimclr-page](aimclr-page.md) at `abc1234` | 79.5 ± 1.1")
    assert table[1].endswith("| 2 | 108 |") and table[2].startswith("| ActCLR · joint |")
    rows = json.loads((out / "actclr.json").read_text())
    assert [row["carried_from"] for row in rows[:2]] == ["aimclr-page"] * 2
    assert rows[0]["commit"] == "abc1234" and rows[0]["wall_time_s"] == 9.0
    assert "carried_from" not in rows[2] and "--topic actclr" in rows[2]["command"]
    with pytest.raises(SystemExit, match="no single line 'AimCLR · joint' with a crrl-std "
                                         "linear row and a 1-NN row"):
        method_table.carried_rows(f"AimCLR · joint={earlier}", "crrl-std")
    with pytest.raises(SystemExit, match="expected LABEL=PAGE.json of an existing page"):
        method_table.carried_rows(f"SkeletonCLR · joint={tmp_path / 'none.json'}", "crrl-std")
