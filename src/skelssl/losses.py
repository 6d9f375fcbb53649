"""Loss functions as pure functions of embeddings; each is tested against hand-computed values."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def similarities(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """a @ bᵀ in float32, under autocast too: divided by a temperature of 0.07, bf16's
    0.4 % rounding would move logits by up to 0.06."""
    with torch.autocast(a.device.type, enabled=False):
        return a.float() @ b.float().t()


def moco_logits(q: torch.Tensor, k: torch.Tensor, queue: torch.Tensor) -> torch.Tensor:
    """[q·k⁺, q·queue] per query, shape (N, 1 + K), in float32; inputs are L2-normalised."""
    positive = (q.float() * k.float()).sum(dim=1, keepdim=True)
    return torch.cat([positive, similarities(q, queue)], dim=1)


def infonce(q: torch.Tensor, k: torch.Tensor, queue: torch.Tensor, temperature: float = 0.07
            ) -> torch.Tensor:
    """MoCo InfoNCE: cross-entropy of [l_pos, l_neg]/τ with the positive at index 0."""
    return infonce_of_logits(moco_logits(q, k, queue), temperature)


def infonce_of_logits(logits: torch.Tensor, temperature: float = 0.07) -> torch.Tensor:
    """InfoNCE of precomputed similarities [l_pos, l_neg] (N, 1 + K)."""
    target = torch.zeros(logits.shape[0], dtype=torch.long, device=logits.device)
    return F.cross_entropy(logits / temperature, target)


def knowledge_mining_loss(l_pos: torch.Tensor, l_neg: torch.Tensor, guide: torch.Tensor,
                          temperature: float = 0.07, topk: int = 1, context: bool = True
                          ) -> torch.Tensor:
    """CrosSCLR's knowledge mining: InfoNCE with extra positives mined from a guide view.

    ``l_pos`` (N, 1) and ``l_neg`` (N, K) are one view's similarities to its key and to the
    queue; ``guide`` (N, K) is the guiding view's similarity to the same queue entries (its own
    ``l_neg`` for single-view mining). The top-``topk`` entries of ``guide`` become positives.
    With ``context`` the logits gain the block ``l_neg ⊙ guide`` (embedding context), where the
    same entries are positives too. Loss = mean over samples of −Σ mask·log_softmax(logits/τ) /
    Σ mask. ``topk=0`` without context is InfoNCE.
    """
    l_pos, l_neg, guide = l_pos.float(), l_neg.float(), guide.float()
    mined = torch.zeros_like(l_neg)
    if topk > 0:
        mined.scatter_(1, guide.topk(topk, dim=1).indices, 1.0)
    blocks, masks = [l_pos, l_neg], [torch.ones_like(l_pos), mined]
    if context:
        blocks.append(l_neg * guide)
        masks.append(mined)
    return multi_positive_infonce(torch.cat(blocks, dim=1), torch.cat(masks, dim=1),
                                  temperature)


def multi_positive_infonce(logits: torch.Tensor, positives: torch.Tensor,
                           temperature: float = 0.07) -> torch.Tensor:
    """InfoNCE with several positives: mean over samples of −Σ mask·log_softmax(logits/τ) /
    Σ mask, for similarities logits (N, K) and a 0/1 mask of positives (N, K)."""
    log_p = F.log_softmax(logits.float() / temperature, dim=1)
    positives = positives.to(log_p.dtype)
    return (-(positives * log_p).sum(dim=1) / positives.sum(dim=1)).mean()


def distribution_divergence(target_logits: torch.Tensor, logits: torch.Tensor,
                            temperature: float = 0.07) -> torch.Tensor:
    """Cross-entropy H(p, q) = −Σ p·log q, mean over samples, with p = softmax of the detached
    ``target_logits``/τ and q = softmax of ``logits``/τ (AimCLR's D³M term per extreme view)."""
    target = F.softmax(target_logits.detach().float() / temperature, dim=1)
    return -(target * F.log_softmax(logits.float() / temperature, dim=1)).sum(dim=1).mean()


def sequence_mse(prediction: torch.Tensor, target: torch.Tensor, lengths: torch.Tensor
                 ) -> torch.Tensor:
    """Reconstruction error of frames[N, T, D]: squared error summed over a frame's D values,
    averaged over the sample's valid frames, then over samples (CRRL's L_r per direction)."""
    per_frame = ((prediction.float() - target.float()) ** 2).sum(dim=2)
    lengths = lengths.to(per_frame.device)
    valid = torch.arange(per_frame.shape[1], device=per_frame.device)[None] < lengths[:, None]
    return ((per_frame * valid).sum(dim=1) / lengths.clamp(min=1)).mean()


def distillation_loss(student: torch.Tensor, teacher: torch.Tensor) -> torch.Tensor:
    """Mean over samples of the squared L2 distance ‖student − teacher‖² (CRRL's INF term)."""
    return ((student.float() - teacher.float()) ** 2).sum(dim=1).mean()


def nt_xent(z1: torch.Tensor, z2: torch.Tensor, temperature: float = 0.1) -> torch.Tensor:
    """SimCLR's NT-Xent over 2N L2-normalised views: each view's positive is the other view
    of its sample, its negatives the other 2N − 2 views; cross-entropy of the cosine
    similarities / τ, averaged over all 2N views, i.e. over both (i, j) and (j, i)."""
    z = torch.cat([z1, z2]).float()
    count = z1.shape[0]
    logits = (similarities(z, z) / temperature).masked_fill(
        torch.eye(2 * count, dtype=torch.bool, device=z.device), float("-inf"))
    partner = torch.arange(2 * count, device=z.device).roll(count)
    return F.cross_entropy(logits, partner)


def similarity_mining_loss(student_logits: torch.Tensor, teacher_logits: torch.Tensor,
                           student_temperature: float = 0.1, teacher_temperature: float = 0.04
                           ) -> torch.Tensor:
    """ActCLR's similarity mining (eq. 9): KL(p_k ‖ p_q), mean over samples, with
    p_k = softmax(teacher_logits / τ_k) (detached: the key's similarities to the memory bank)
    and p_q = softmax(student_logits / τ_q) (the query's)."""
    target = F.softmax(teacher_logits.detach().float() / teacher_temperature, dim=1)
    log_student = F.log_softmax(student_logits.float() / student_temperature, dim=1)
    return F.kl_div(log_student, target, reduction="batchmean")


def cross_contrast(q_a: torch.Tensor, k_a: torch.Tensor, queue_a: torch.Tensor,
                   q_b: torch.Tensor, k_b: torch.Tensor, queue_b: torch.Tensor,
                   temperature: float = 0.07) -> torch.Tensor:
    """ISC's inter-skeleton contrast of representations a and b (eqs. 6–8): each one's
    queries against the other's keys and queue, InfoNCE(q_a, k_b, Q_b) + InfoNCE(q_b, k_a, Q_a)."""
    return (infonce(q_a, k_b, queue_b, temperature)
            + infonce(q_b, k_a, queue_a, temperature))
