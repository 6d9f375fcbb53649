"""ActCLR's actionlets: where a sequence moves, found without labels (paper §3.1), and the
pooling that weights features by them (SAFP, eq. 8).

The actionlet of a sequence is the region of its last feature map that makes its embedding
differ from the static anchor's (the embedding of the average motion): the gradient of
−cos(z, z̄) with respect to the dense features h[c, t, v], averaged over (t, v), weights the
channels; A[t, v] = ReLU(Σ_c α_c·f[c, t, v]), smoothed over the skeleton, scaled to [0, 1].
f is the dense features h as the paper writes it, or their difference h − h̄ from the
anchor's: at random weights only the difference reliably finds the moving joints
(tests/models/test_actionlet.py), so the method offers both.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F

from skelssl.skeleton import Layout

SMOOTHING = ("adjacency", "parts")
SCALING = ("max", "binary")


def channel_weights(maps: torch.Tensor, embed: Callable[[torch.Tensor], torch.Tensor],
                    anchor: torch.Tensor, singleton: bool = False) -> torch.Tensor:
    """α (B, C): the mean over (T, V) of the gradient of −cos(embed(maps), anchor) w.r.t. the
    maps (B, C, T, V); ``embed`` maps the feature maps to embeddings (B, D), ``anchor`` is
    (D,) or (B, D). Nothing outside this function receives a gradient. ``singleton`` takes the
    cosine over a dimension of size one, as the released code does: every entry's cosine is
    ±1, the gradient 0, and so is the actionlet."""
    with torch.enable_grad():
        dense = maps.detach().requires_grad_(True)
        z = embed(dense)
        target = anchor.detach().expand(z.shape[0], -1)
        if singleton:
            similarity = F.cosine_similarity(z[..., None], target[..., None], dim=-1).sum(dim=1)
        else:
            similarity = F.cosine_similarity(z, target, dim=1)
        (gradient,) = torch.autograd.grad(-similarity.sum(), dense, allow_unused=False)
    return gradient.mean(dim=(2, 3))


def actionlet_map(maps: torch.Tensor, weights: torch.Tensor, smoothing: torch.Tensor,
                  scaling: str = "max") -> torch.Tensor:
    """A (B, T, V) in [0, 1]: ReLU(Σ_c α_c·h[c, t, v]) of maps (B, C, T, V) and weights
    (B, C), smoothed over the joints by ``smoothing`` (V, V; A ← A·S), then divided by each
    map's maximum (``max``) or, as the released code (÷10⁻⁸, then clipped), pushed to 0/1
    (``binary``: any positive value becomes 1)."""
    saliency = F.relu(torch.einsum("bctv,bc->btv", maps.detach(), weights))
    # a map whose positions are not joints (a pseudo-image's) is not smoothed over the skeleton
    same = saliency.shape[-1] == smoothing.shape[0]
    smoothed = saliency @ smoothing.to(saliency.dtype) if same else saliency
    if scaling == "binary":
        return (smoothed > 0).to(smoothed.dtype)
    if scaling != "max":
        raise ValueError(f"actionlet scaling {scaling!r}: expected one of {SCALING}")
    peak = smoothed.amax(dim=(1, 2), keepdim=True)  # gradients can be ~1e-14: no floor
    return smoothed / torch.where(peak > 0, peak, torch.ones_like(peak))


def joint_smoothing(layout: Layout, mode: str = "adjacency") -> torch.Tensor:
    """(V, V) smoothing S of a joint map (A ← A·S): each joint becomes the mean over itself and
    its neighbours in the skeleton (``adjacency``, the paper's eq. 5), or over its body part
    (``parts``, the released code; joints outside every part keep their value)."""
    joints = layout.num_joints
    if mode == "parts":
        smoothing = torch.eye(joints)
        for part in layout.parts.values():
            index = torch.tensor(part)
            smoothing[index[:, None], index[None, :]] = 1.0 / len(part)
        return smoothing
    if mode != "adjacency":
        raise ValueError(f"actionlet smoothing {mode!r}: expected one of {SMOOTHING}")
    linked = torch.eye(joints)
    for child, parent in layout.edges:
        linked[child, parent] = linked[parent, child] = 1.0
    return linked / linked.sum(dim=0, keepdim=True)


def upsample(actionlet: torch.Tensor, frames: int, joints: int) -> torch.Tensor:
    """A (B, T', V') stretched to (B, frames, joints): linear over time (bilinear when the map's
    positions are not the joints, as a pseudo-image's)."""
    if actionlet.shape[2] == joints:
        stretched = F.interpolate(actionlet.transpose(1, 2), size=frames, mode="linear",
                                  align_corners=True)
        return stretched.transpose(1, 2)
    return F.interpolate(actionlet[:, None], size=(frames, joints), mode="bilinear",
                         align_corners=True)[:, 0]


def actionlet_pool(maps: torch.Tensor, actionlet: torch.Tensor, eps: float = 1e-6
                   ) -> torch.Tensor:
    """SAFP (eq. 8): features (B, C) = Σ_{t,v} h[c, t, v]·A[t, v] / Σ A of maps (B, C, T, V)
    and an actionlet (B, T, V) at the maps' resolution."""
    weight = actionlet[:, None]
    return (maps * weight).sum(dim=(2, 3)) / (weight.sum(dim=(2, 3)) + eps)
