import math

import torch

from skelssl.losses import infonce, moco_logits


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
