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
