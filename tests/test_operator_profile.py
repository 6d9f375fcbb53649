"""benchmarks/official_pure_step.py's operator profile: small operators summed into one row."""

import torch


def step() -> None:
    big = torch.ones(256, 256)
    (big @ big).sum()
    torch.zeros(3).add_(1.0)


def test_small_operators_are_summed_into_one_last_row(benchmark):
    operator_profile = benchmark("official_pure_step").operator_profile
    every = operator_profile(step, steps=2, least_share=0.0)
    kept = operator_profile(step, steps=2, least_share=0.2)
    assert all("other operators" not in row["operator"] for row in every)
    assert len(kept) < len(every)
    last = kept[-1]
    assert last["operator"].endswith("other operators, each under 20 %")
    assert all(row["share"] >= 0.2 for row in kept[:-1])
    assert abs(sum(row["share"] for row in kept) - 1.0) < 1e-6
    assert [row["share"] for row in kept[:-1]] == sorted(
        (row["share"] for row in kept[:-1]), reverse=True)
