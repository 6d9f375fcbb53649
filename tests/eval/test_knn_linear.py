import pytest
import torch

from skelssl.eval.knn import knn_predict, top1
from skelssl.eval.linear import LINEAR_PRESETS, LinearPreset, train_linear


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
    with pytest.raises(ValueError, match="k must be at least 1"):
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
