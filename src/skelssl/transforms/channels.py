"""Joint channels: coordinates, then (for keypoints from a pose estimator) a confidence.

Geometric transforms act on the coordinates only; a confidence channel (``Layout.scores``)
is carried through them unchanged, and through temporal ones like any channel.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from skelssl.skeleton import Layout


def on_coordinates(transform: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor,
                   layout: Layout) -> torch.Tensor:
    """``transform`` applied to the coordinate channels of x[N, C, ...]; a confidence
    channel (the last one, when ``layout.scores``) passes unchanged."""
    if not layout.scores:
        return transform(x)
    coordinates = layout.coordinates(x.shape[1])
    return torch.cat([transform(x[:, :coordinates]), x[:, coordinates:]], dim=1)
