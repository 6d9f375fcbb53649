"""The per-batch preprocessing a run asks for, applied on the training device."""

from __future__ import annotations

import torch

from skelssl.skeleton import Layout
from skelssl.transforms.channels import on_coordinates
from skelssl.transforms.normalize import align_view, center, minmax_normalize, pad_persons
from skelssl.transforms.temporal import cap_frames, resize_valid


class Preprocess:
    """persons → frame cap → centre → view alignment → min-max → resize valid frames (each
    optional; the settings are those of a config's ``data`` section). Centring, alignment and
    min-max act on the coordinates; a confidence channel passes unchanged."""

    def __init__(self, layout: Layout, *, persons: int = 2, center: str = "frame",
                 align_view: bool = False, view_axes: str = "shoulders", minmax: bool = False,
                 max_frames: int = 0, frame_cap: str = "even", frames: int = 50) -> None:
        self.layout = layout
        self.persons = persons
        self.center = center
        self.align_view = align_view
        self.view_axes = view_axes
        self.minmax = minmax
        self.max_frames = max_frames
        self.frame_cap = frame_cap
        self.frames = frames

    def __call__(self, x: torch.Tensor, lengths: torch.Tensor
                 ) -> tuple[torch.Tensor, torch.Tensor]:
        x = pad_persons(x, self.persons)
        if self.max_frames:
            x, lengths = cap_frames(x, lengths, self.max_frames, self.frame_cap)
        x = on_coordinates(lambda v: self.geometry(v, lengths), x, self.layout)
        if self.frames:
            x, lengths = resize_valid(x, lengths, self.frames)
        return x, lengths

    def geometry(self, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """Centre, view alignment and min-max of the coordinates x[N, C, T, V, M]."""
        if self.center != "none":
            x = center(x, lengths, self.layout.center, self.center)
        if self.align_view:
            x = align_view(x, self.layout, self.view_axes)
        if self.minmax:
            x = minmax_normalize(x, lengths)
        return x
