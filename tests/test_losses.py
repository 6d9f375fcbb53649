import math

import torch

from skelssl.losses import (
    cross_contrast,
    distillation_loss,
    distribution_divergence,
    infonce,
    moco_logits,
    multi_positive_infonce,
    nt_xent,
    sequence_mse,
    similarities,
    similarity_mining_loss,
)


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


def test_nt_xent_matches_a_hand_computed_value_on_2x2_embeddings():
    # views: a1 = (1, 0), b1 = (0, 1) | a2 = (0.6, 0.8), b2 = (0, −1); τ = 0.5
    z1 = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    z2 = torch.tensor([[0.6, 0.8], [0.0, -1.0]])
    tau = 0.5

    def term(positive, others):  # −log softmax of the positive among itself and the others
        return -positive / tau + math.log(sum(math.exp(s / tau) for s in [positive, *others]))

    # similarities: a1·b1 0, a1·a2 0.6, a1·b2 0; b1·a2 0.8, b1·b2 −1; a2·b2 −0.8
    a1 = term(0.6, [0.0, 0.0])   # positive a2; negatives b1, b2
    b1 = term(-1.0, [0.0, 0.8])  # positive b2; negatives a1, a2
    a2 = term(0.6, [0.8, -0.8])  # positive a1; negatives b1, b2
    b2 = term(-1.0, [0.0, -0.8])  # positive b1; negatives a1, a2
    torch.testing.assert_close(nt_xent(z1, z2, tau), torch.tensor((a1 + b1 + a2 + b2) / 4))


def test_nt_xent_is_the_mean_of_both_directions():
    g = torch.Generator().manual_seed(0)
    z1 = torch.nn.functional.normalize(torch.randn(5, 4, generator=g), dim=1)
    z2 = torch.nn.functional.normalize(torch.randn(5, 4, generator=g), dim=1)
    torch.testing.assert_close(nt_xent(z1, z2, 0.2), nt_xent(z2, z1, 0.2))
    # the (i, j) direction alone: rows of z1 against z2's positives and all other views
    z = torch.cat([z1, z2])
    logits = z @ z.t() / 0.2
    logits.fill_diagonal_(float("-inf"))
    forward = torch.nn.functional.cross_entropy(logits[:5], torch.arange(5, 10))
    backward = torch.nn.functional.cross_entropy(logits[5:], torch.arange(5))
    torch.testing.assert_close(nt_xent(z1, z2, 0.2), (forward + backward) / 2)


def test_multi_positive_infonce_matches_a_hand_computed_value():
    logits = torch.tensor([[0.5, 0.1, 0.3, -0.2], [0.2, 0.4, 0.0, 0.1]])
    mask = torch.tensor([[1.0, 0.0, 1.0, 0.0], [1.0, 1.0, 1.0, 0.0]])
    tau = 0.5

    def log_p(row, j):
        return row[j] / tau - math.log(sum(math.exp(v / tau) for v in row))

    rows = logits.tolist()
    first = -(log_p(rows[0], 0) + log_p(rows[0], 2)) / 2
    second = -(log_p(rows[1], 0) + log_p(rows[1], 1) + log_p(rows[1], 2)) / 3
    torch.testing.assert_close(multi_positive_infonce(logits, mask, tau),
                               torch.tensor((first + second) / 2))
    only_first = torch.zeros_like(mask)
    only_first[:, 0] = 1
    torch.testing.assert_close(multi_positive_infonce(logits, only_first, tau),
                               torch.nn.functional.cross_entropy(logits / tau,
                                                                 torch.zeros(2, dtype=torch.long)))


def test_d3m_term_is_the_cross_entropy_of_the_detached_normal_distribution():
    # a queue of 2: logits [pos, queue_1, queue_2] of the normal query and an extreme one
    normal = torch.tensor([[0.9, 0.1, -0.3]], requires_grad=True)
    extreme = torch.tensor([[0.4, 0.6, 0.0]], requires_grad=True)
    tau = 0.2
    p = [math.exp(v / tau) for v in normal[0].tolist()]
    p = [v / sum(p) for v in p]
    log_q = [v / tau - math.log(sum(math.exp(u / tau) for u in extreme[0].tolist()))
             for v in extreme[0].tolist()]
    loss = distribution_divergence(normal, extreme, tau)
    expected = -sum(a * b for a, b in zip(p, log_q, strict=True))
    torch.testing.assert_close(loss, torch.tensor(expected))
    loss.backward()
    assert normal.grad is None and extreme.grad is not None  # the target is detached


def test_similarity_mining_is_the_kl_from_the_sharp_teacher_to_the_student():
    student = torch.tensor([[0.2, 0.5, -0.1]], requires_grad=True)
    teacher = torch.tensor([[0.3, 0.1, 0.0]], requires_grad=True)

    def softmax(row, tau):
        weights = [math.exp(v / tau) for v in row]
        return [w / sum(weights) for w in weights]

    p = softmax(teacher[0].tolist(), 0.04)
    q = softmax(student[0].tolist(), 0.1)
    expected = sum(a * math.log(a / b) for a, b in zip(p, q, strict=True))
    loss = similarity_mining_loss(student, teacher, 0.1, 0.04)
    torch.testing.assert_close(loss, torch.tensor(expected))
    loss.backward()
    assert teacher.grad is None and student.grad is not None


def test_cross_contrast_matches_a_hand_computation_and_is_symmetric_in_the_pair():
    q_a = torch.tensor([[1.0, 0.0]])
    k_a = torch.tensor([[0.6, 0.8]])
    queue_a = torch.tensor([[0.0, 1.0], [-1.0, 0.0]])
    q_b = torch.tensor([[0.0, 1.0]])
    k_b = torch.tensor([[0.8, 0.6]])
    queue_b = torch.tensor([[1.0, 0.0], [0.0, -1.0]])
    tau = 0.5
    # q_a against b: [q_a·k_b, q_a·Q_b] = [0.8, 1, 0]; q_b against a: [0.8, 1, 0]
    a_to_b = -0.8 / tau + math.log(math.exp(0.8 / tau) + math.exp(1 / tau) + 1)
    b_to_a = -0.8 / tau + math.log(math.exp(0.8 / tau) + math.exp(1 / tau) + 1)
    loss = cross_contrast(q_a, k_a, queue_a, q_b, k_b, queue_b, tau)
    torch.testing.assert_close(loss, torch.tensor(a_to_b + b_to_a))
    torch.testing.assert_close(cross_contrast(q_b, k_b, queue_b, q_a, k_a, queue_a, tau), loss)
    torch.testing.assert_close(loss, infonce(q_a, k_b, queue_b, tau) + infonce(q_b, k_a, queue_a,
                                                                               tau))


def test_similarities_stay_float32_under_bf16_autocast():
    g = torch.Generator().manual_seed(0)
    a = torch.nn.functional.normalize(torch.randn(8, 16, generator=g), dim=1)
    b = torch.nn.functional.normalize(torch.randn(64, 16, generator=g), dim=1)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        got = similarities(a, b)
        rounded = a @ b.t()
    assert got.dtype == torch.float32 and rounded.dtype == torch.bfloat16
    torch.testing.assert_close(got, a @ b.t(), rtol=1e-6, atol=1e-6)
    assert (rounded.float() - a @ b.t()).abs().max() > 1e-4  # what bf16 would have given
