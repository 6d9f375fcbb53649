from dataclasses import replace

import pytest
import torch
import torch.nn.functional as F

from skelssl.errors import EvalError
from skelssl.eval.knn import knn_predict
from skelssl.eval.linear import LINEAR_PRESETS, LinearPreset, get_preset, train_linear
from skelssl.eval.metrics import top1


def test_nearest_neighbour_and_weighted_vote_by_hand():
    train = torch.tensor([[1.0, 0.0], [0.8, 0.6], [0.0, 1.0], [-1.0, 0.0]])
    labels = torch.tensor([0, 1, 1, 2])
    test = torch.tensor([[10.0, 1.0], [0.3, 1.0]])  # scale must not matter (cosine)
    assert knn_predict(train, labels, test, 1, 3).tolist() == [0, 1]
    # k = 2 for the first test point: neighbours 0 (cos .995) and 1 (cos .855):
    # votes class 0: e^(.995/T), class 1: e^(.855/T) → class 0; with T large both ≈ 1 → tie→0
    assert knn_predict(train, labels, test[:1], 2, 3, temperature=0.1).tolist() == [0]
    # k = 3: class 1 gets two votes (.855 and .0995) and wins when T is large (votes ≈ counts)
    assert knn_predict(train, labels, test[:1], 3, 3, temperature=100.0).tolist() == [1]
    assert knn_predict(train, labels, test[:1], 3, 3, temperature=0.01).tolist() == [0]
    chunked = knn_predict(train, labels, test, 2, 3, chunk=1)
    assert torch.equal(chunked, knn_predict(train, labels, test, 2, 3))
    assert top1(torch.tensor([0, 1, 1, 2]), torch.tensor([0, 1, 2, 2])) == 75.0
    with pytest.raises(EvalError, match="k must be at least 1"):
        knn_predict(train, labels, test, 0, 3)


def test_presets_are_the_papers_protocols():
    crossclr, crrl = LINEAR_PRESETS["crossclr"], LINEAR_PRESETS["crrl"]
    assert (crossclr.lr, crossclr.batch_size, crossclr.epochs, crossclr.milestones,
            crossclr.gamma, crossclr.weight_decay, crossclr.nesterov) == (
        3.0, 128, 100, (80,), 0.1, 0.0, False)
    assert (crrl.lr, crrl.batch_size, crrl.epochs, crrl.milestones, crrl.gamma,
            crrl.nesterov) == (0.1, 16, 85, (15, 35, 50, 66, 75), 0.5, True)


def test_linear_probe_separates_separable_features():
    generator = torch.Generator().manual_seed(0)
    centres = torch.randn(4, 8, generator=generator) * 3
    labels = torch.arange(4).repeat(30)
    features = centres[labels] + 0.3 * torch.randn(120, 8, generator=generator)
    preset = LinearPreset(lr=0.1, batch_size=16, epochs=10, milestones=(8,), gamma=0.1)
    result = train_linear(lambda p: features[p], labels, lambda p: features[p], labels, 8, 4,
                          preset)
    assert result["top1"] == 100.0 and result["epoch"] == "final"
    assert len(result["curve"]) == 10 and result["train_loss"][-1] < result["train_loss"][0]
    assert result["best_test_epoch"]["top1"] == max(result["curve"])
    again = train_linear(lambda p: features[p], labels, lambda p: features[p], labels, 8, 4,
                         preset)
    assert again["curve"] == result["curve"]  # seeded


def test_std_presets_are_the_papers_presets_on_standardised_features():
    assert get_preset("crrl-std") == replace(LINEAR_PRESETS["crrl"], standardize=True)
    assert not get_preset("crossclr").standardize
    with pytest.raises(EvalError, match="unknown linear preset 'crrl-sd'.*'-std'"):
        get_preset("crrl-sd")


def test_standardised_probe_equals_the_probe_on_features_standardised_by_hand():
    generator = torch.Generator().manual_seed(1)
    train = torch.randn(40, 5, generator=generator) * torch.tensor([1.0, 5, 0.1, 2, 3]) + 7
    test = torch.randn(20, 5, generator=generator) * 4 - 3  # other statistics: must not be used
    labels, test_labels = torch.arange(40) % 3, torch.arange(20) % 3
    mean = train.double().mean(0)
    scale = (train.double().var(0, unbiased=False) + 1e-5).rsqrt()
    by_hand = [((x.double() - mean) * scale).float() for x in (train, test)]
    preset = LinearPreset(lr=0.1, batch_size=8, epochs=4, milestones=(3,), gamma=0.1)
    reference = train_linear(lambda p: by_hand[0][p], labels, lambda p: by_hand[1][p],
                             test_labels, 5, 3, preset)
    result = train_linear(lambda p: train[p], labels, lambda p: test[p], test_labels, 5, 3,
                          replace(preset, standardize=True))
    torch.testing.assert_close(result["logits"], reference["logits"])
    assert result["train_loss"] == pytest.approx(reference["train_loss"], rel=1e-5)
    assert result["settings"]["standardize"] is True


def test_standardising_makes_sgd_converge_on_features_with_a_large_common_offset():
    # Two classes told apart by a small signal riding on a large shared offset (as ReLU-pooled
    # encoder features): the CrosSCLR schedule on raw features cannot fit them in its steps.
    generator = torch.Generator().manual_seed(0)
    labels = torch.arange(64) % 2
    signal = (labels.float() * 2 - 1).unsqueeze(1) * torch.tensor([0.05, -0.05, 0.0, 0.0])
    features = 20.0 + signal + 0.01 * torch.randn(64, 4, generator=generator)
    preset = LINEAR_PRESETS["crossclr"]
    raw = train_linear(lambda p: features[p], labels, lambda p: features[p], labels, 4, 2,
                       preset)
    standardised = train_linear(lambda p: features[p], labels, lambda p: features[p], labels,
                                4, 2, replace(preset, standardize=True))
    assert standardised["top1"] == 100.0 and standardised["train_loss"][-1] < 0.05
    assert raw["top1"] < 90.0 and raw["train_loss"][-1] > 10 * standardised["train_loss"][-1]


def test_linear_probe_gives_the_same_result_on_any_number_of_threads():
    # ReLU-like features with an offset and a lr-3.0 schedule: in float32 the final logits
    # differed by tens between 1 and 2 threads; the float64 probe must not depend on them.
    generator = torch.Generator().manual_seed(0)
    features = torch.randn(600, 512, generator=generator).relu() + 0.5
    labels = torch.arange(600) % 10
    preset = replace(LINEAR_PRESETS["crossclr"], epochs=10)
    threads = torch.get_num_threads()
    results = []
    try:
        for count in (1, 2):
            torch.set_num_threads(count)
            results.append(train_linear(lambda p: features[p], labels, lambda p: features[p],
                                        labels, 512, 10, preset))
    finally:
        torch.set_num_threads(threads)
    assert torch.equal(results[0]["logits"], results[1]["logits"])
    assert results[0]["train_loss"] == results[1]["train_loss"]


def test_nearest_neighbour_ranks_similarities_float32_cannot_tell_apart():
    # Features with a large common component: both cosine similarities round to 1.0 in
    # float32 (a tie, won by the first, wrong neighbour); float64 finds the right one.
    train = torch.tensor([[1000.0, -0.01], [1000.0, 0.01]])
    test = torch.tensor([[1000.0, 0.01]])
    float32 = F.normalize(test, dim=1) @ F.normalize(train, dim=1).t()
    assert float32[0, 0] == float32[0, 1]
    assert knn_predict(train, torch.tensor([0, 1]), test, k=1, num_classes=2).tolist() == [1]


def test_knn_chunks_by_a_memory_budget(monkeypatch):
    """The default chunk fits the similarity block in SIMILARITY_BYTES; same predictions."""
    from skelssl.eval import knn

    generator = torch.Generator().manual_seed(0)
    train, test = torch.randn(50, 8, generator=generator), torch.randn(30, 8, generator=generator)
    labels = torch.randint(0, 4, (50,), generator=generator)
    whole = knn_predict(train, labels, test, 5, 4, chunk=30)
    rows = []
    original = torch.Tensor.topk
    monkeypatch.setattr(knn, "SIMILARITY_BYTES", 50 * 8 * 7)  # 7 rows of float64 similarities
    monkeypatch.setattr(torch.Tensor, "topk", lambda self, *a, **kw: (rows.append(len(self)),
                                                                       original(self, *a, **kw))[1])
    assert torch.equal(knn_predict(train, labels, test, 5, 4), whole)
    assert rows == [7, 7, 7, 7, 2]
