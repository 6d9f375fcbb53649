"""benchmarks/results.py: the helpers every results page goes through."""

import shlex


def test_the_command_pastes_into_a_shell_without_the_note(benchmark):
    results = benchmark("results")
    argv = ["benchmarks/method_nw_ucla.py", "--variant", "AimCLR · joint=aimclr-agcn,config=a.yaml",
            "--note", "Runs trained two at a time.", "--seeds", "0", "1", "--note=twice"]
    command = results.command_line(argv)
    assert shlex.split(command) == ["python", "benchmarks/method_nw_ucla.py", "--variant",
                                    "AimCLR · joint=aimclr-agcn,config=a.yaml", "--seeds", "0",
                                    "1"]
    assert "two at a time" not in command


def test_a_summary_keeps_enough_digits_to_round_once(benchmark):
    results = benchmark("results")
    row = results.summary([100 * 195 / 232])
    assert f"{row['mean']:.1f}" == "84.1" and row["std"] is None
