"""Valid-frame masks for convolutional encoders, so that padding never changes a feature.

A batch's samples may be shorter than its T frames (``lengths``). A convolution over time sees
the frames around each position, so before every temporal convolution the frames beyond a
sample's length are set to zero — what the convolution's own zero padding would give a
sequence of that length — and pooling averages over valid frames only. After a temporal
stride s, a sequence of L frames has ⌈L/s⌉. When every frame is valid the mask is ``None``
and the encoder computes exactly what it would without masks.
"""

from __future__ import annotations

import torch
from torch import nn

from skelssl.transforms.masks import valid_frames


class FrameMask:
    """Which of the T frames of each (sample, person) row are valid, at one time resolution."""

    def __init__(self, lengths: torch.Tensor | None, frames: int, persons: int) -> None:
        if lengths is not None and bool((lengths >= frames).all()):
            lengths = None  # every frame valid: no masking at all
        self.lengths = None if lengths is None else lengths.repeat_interleave(persons)
        self.frames = frames

    def strided(self, stride: int, frames: int) -> FrameMask:
        """The mask after a temporal stride that left ``frames`` frames."""
        out = FrameMask(None, frames, 1)
        if self.lengths is not None:
            out.lengths = torch.div(self.lengths + stride - 1, stride, rounding_mode="floor")
        return out

    def rows(self, start: int, stop: int | None = None) -> FrameMask:
        """The mask of rows ``start:stop`` of the batch (rows: sample-person pairs)."""
        out = FrameMask(None, self.frames, 1)
        if self.lengths is not None:
            out.lengths = self.lengths[start:stop]
        return out

    def weights(self, x: torch.Tensor) -> torch.Tensor | None:
        """(N·M, 1, T, 1) 0/1 weights for x[N·M, C, T, V] (None: all valid)."""
        if self.lengths is None:
            return None
        keep = valid_frames(self.lengths.to(x.device), x.shape[2])
        return keep[:, None, :, None].to(x.dtype)

    def apply(self, x: torch.Tensor) -> torch.Tensor:
        """x[N·M, C, T, V] with the invalid frames set to zero."""
        weights = self.weights(x)
        return x if weights is None else x * weights

    def mean(self, x: torch.Tensor) -> torch.Tensor:
        """Mean of x[N·M, C, T, V] over valid frames and all V: (N·M, C)."""
        weights = self.weights(x)
        if weights is None:
            return x.mean(dim=(2, 3))
        total = (x * weights).sum(dim=(2, 3))
        return total / (weights.sum(dim=(2, 3)) * x.shape[3]).clamp(min=1)


class MapEncoder(nn.Module):
    """An encoder whose ``_maps(x, lengths)`` gives per-person feature maps (N·M, D, T', V')
    and their valid-frame mask; its features are the maps averaged over valid frames and all
    positions, then over persons (ST-GCN, 2s-AGCN, the pseudo-image ResNet)."""

    def _maps(self, x: torch.Tensor, lengths: torch.Tensor | None
              ) -> tuple[torch.Tensor, FrameMask]:
        raise NotImplementedError

    def feature_maps(self, x: torch.Tensor, lengths: torch.Tensor | None = None
                     ) -> torch.Tensor:
        """The last block's output (N·M, D, T', V'), persons folded into the batch."""
        return self._maps(x, lengths)[0]

    def maps_and_mask(self, x: torch.Tensor, lengths: torch.Tensor | None = None
                      ) -> tuple[torch.Tensor, FrameMask]:
        """The last block's output and its valid-frame mask, for :meth:`pool`."""
        return self._maps(x, lengths)

    @staticmethod
    def pool(maps: torch.Tensor, mask: FrameMask, persons: int) -> torch.Tensor:
        """Features (N, D) of maps (N·M, D, T', V'): the mean over valid frames and all
        positions, then over persons."""
        return mask.mean(maps).view(-1, persons, maps.shape[1]).mean(dim=1)

    def forward(self, x: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        """Average over valid frames and positions, then over persons."""
        maps, mask = self._maps(x, lengths)
        return self.pool(maps, mask, x.shape[4])
