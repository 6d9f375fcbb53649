import math

import torch

from skelssl.losses import distillation_loss, infonce, moco_logits, sequence_mse


def test_infonce_matches_a_hand_computed_value():
    q = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    k = torch.tensor([[0.6, 0.8], [0.0, 1.0]])
    queue = torch.tensor([[1.0, 0.0], [-1.0, 0.0], [0.0, -1.0]])
    tau = 0.5
    # sample 1: logits [0.6, 1, -1, 0]/τ; sample 2: [1, 0, 0, -1]/τ; positive first
    l1 = -1.2 + math.log(math.exp(1.2) + math.exp(2.0) + math.exp(-2.0) + math.exp(0.0))
    l2 = -2.0 + math.log(math.exp(2.0) + 2 * math.exp(0.0) + math.exp(-2.0))
    assert moco_logits(q, k, queue).tolist()[0] == [0.6000000238418579, 1.0, -1.0, 0.0]
    torch.testing.assert_close(infonce(q, k, queue, tau), torch.tensor((l1 + l2) / 2))


def test_infonce_with_a_perfect_key_and_far_negatives_is_near_zero():
    q = torch.eye(3)[:2]
    queue = -torch.eye(3)
    assert infonce(q, q, queue, 0.05) < 1e-6


def test_sequence_mse_sums_a_frame_and_averages_valid_frames_then_samples():
    prediction = torch.zeros(2, 3, 2)
    target = torch.tensor([[[1.0, 2.0], [0.0, 1.0], [9.0, 9.0]],    # 3rd frame is padding
                           [[1.0, 1.0], [1.0, 1.0], [1.0, 1.0]]])
    lengths = torch.tensor([2, 3])
    # sample 1: (1 + 4 + 0 + 1) / 2 = 3; sample 2: (2 + 2 + 2) / 3 = 2; mean 2.5
    assert sequence_mse(prediction, target, lengths).item() == 2.5


def test_distillation_loss_is_the_mean_squared_distance():
    student = torch.tensor([[1.0, 2.0], [0.0, 0.0]])
    teacher = torch.tensor([[1.0, 0.0], [3.0, 4.0]])
    assert distillation_loss(student, teacher).item() == (4.0 + 25.0) / 2
