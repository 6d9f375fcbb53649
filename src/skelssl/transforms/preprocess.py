"""The per-batch preprocessing a config asks for, applied on the training device."""

from __future__ import annotations

import torch

from skelssl.config import DataConfig
from skelssl.skeleton import Layout
from skelssl.transforms.normalize import align_view, center, minmax_normalize, pad_persons
from skelssl.transforms.temporal import cap_frames, resize_valid


class Preprocess:
    """persons → frame cap → centre → view alignment → min-max → resize valid frames (each
    optional)."""

    def __init__(self, config: DataConfig, layout: Layout) -> None:
        self.config = config
        self.layout = layout

    def __call__(self, x: torch.Tensor, lengths: torch.Tensor
                 ) -> tuple[torch.Tensor, torch.Tensor]:
        c = self.config
        x = pad_persons(x, c.persons)
        if c.max_frames:
            x, lengths = cap_frames(x, lengths, c.max_frames, c.frame_cap)
        if c.center != "none":
            x = center(x, lengths, self.layout.center, c.center)
        if c.align_view:
            x = align_view(x, self.layout, c.view_axes)
        if c.minmax:
            x = minmax_normalize(x, lengths)
        if c.frames:
            x, lengths = resize_valid(x, lengths, c.frames)
        return x, lengths
