"""Input streams computed on the fly from joints: joint, motion, bone, velocity, bone-motion."""

from __future__ import annotations

from typing import Literal, get_args

import torch

from skelssl.skeleton import Layout
from skelssl.transforms.channels import on_coordinates
from skelssl.transforms.masks import valid_frames

Stream = Literal["joint", "motion", "bone", "velocity", "bone_motion"]
STREAMS: tuple[str, ...] = get_args(Stream)


def motion(x: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
    """x[t+1] − x[t]; zero at the last valid frame and beyond."""
    out = torch.zeros_like(x)
    out[:, :, :-1] = x[:, :, 1:] - x[:, :, :-1]
    if lengths is not None:
        keep = valid_frames(lengths - 1, x.shape[2])
        out = out * keep[:, None, :, None, None].to(x.dtype)
    return out


def velocity(x: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
    """x[t+1] − x[t] with the last valid frame repeating the one before it (CRRL)."""
    t = x.shape[2]
    if lengths is None:
        lengths = torch.full((x.shape[0],), t, device=x.device, dtype=torch.long)
    out = motion(x, lengths)
    last = (lengths - 1).clamp(min=0)
    before = (lengths - 2).clamp(min=0)
    n, c, _, v, m = x.shape

    def at(index: torch.Tensor) -> torch.Tensor:
        return out.gather(2, index.view(n, 1, 1, 1, 1).expand(n, c, 1, v, m))

    return out.scatter(2, last.view(n, 1, 1, 1, 1).expand(n, c, 1, v, m), at(before))


def bone(x: torch.Tensor, layout: Layout) -> torch.Tensor:
    """x[v] − x[parent(v)]; the centre joint's bone is zero."""
    parents = torch.tensor(layout.parents, device=x.device)
    return x - x.index_select(3, parents)


def stream(x: torch.Tensor, name: str, layout: Layout,
           lengths: torch.Tensor | None = None) -> torch.Tensor:
    """The named stream of a joint batch x[N, C, T, V, M]; a confidence channel is carried
    as it is (the confidence of the joint and frame)."""
    if name not in STREAMS:
        raise ValueError(f"unknown stream {name!r}: expected one of {STREAMS}")
    if name == "joint":
        return x
    return on_coordinates(lambda v: coordinate_stream(v, name, layout, lengths), x, layout)


def coordinate_stream(x: torch.Tensor, name: str, layout: Layout,
                      lengths: torch.Tensor | None) -> torch.Tensor:
    """The named stream (not joint) of coordinates x[N, C, T, V, M]."""
    if name == "motion":
        return motion(x, lengths)
    if name == "bone":
        return bone(x, layout)
    if name == "velocity":
        return velocity(x, lengths)
    return motion(bone(x, layout), lengths)
