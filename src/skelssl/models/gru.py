"""Sequence encoders: a bidirectional GRU or LSTM over flattened frames, and CRRL's GRU decoder.

A frame of x[N, C, T, V, M] is flattened to M·V·C values (persons, then joints, then
coordinates: 150 for NTU, 60 for one NW-UCLA person). Padded frames beyond each sample's length
are packed away, so they never reach the recurrence.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from skelssl.skeleton import Layout
from skelssl.transforms.masks import temporal_average


def flatten_frames(x: torch.Tensor) -> torch.Tensor:
    """x[N, C, T, V, M] → frames[N, T, M·V·C]."""
    n, c, t, v, m = x.shape
    return x.permute(0, 2, 4, 3, 1).reshape(n, t, m * v * c)


def full_lengths(x: torch.Tensor) -> torch.Tensor:
    """Lengths saying every frame of ``x`` is valid."""
    return torch.full((x.shape[0],), x.shape[2], dtype=torch.long, device=x.device)


def last_valid(frames: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """frames[n, lengths[n] − 1] for each sample: (N, D)."""
    last = (lengths.to(frames.device) - 1).clamp(min=0)
    return frames[torch.arange(frames.shape[0], device=frames.device), last]


@dataclass
class BiGRUConfig:
    """Encoder section for the bidirectional GRU (CRRL: 2 × 256 per direction, dropout 0.2)."""

    name: str = "bigru"
    hidden_size: int = 256  # per direction; features are 2 × hidden_size
    layers: int = 2
    dropout: float = 0.2  # between stacked layers


@dataclass
class BiLSTMConfig(BiGRUConfig):
    """Encoder section for the bidirectional LSTM (CrosSCLR's recurrent variant)."""

    name: str = "bilstm"


class BiGRU(nn.Module):
    """Bidirectional GRU: x[N, C, T, V, M] (+ lengths) → temporal average of outputs [N, 2H]."""

    Config: type = BiGRUConfig
    provides: ClassVar[frozenset[str]] = frozenset({"frames"})
    cell = "gru"  # the recurrent module's attribute name and type
    _CELLS = {"gru": nn.GRU, "lstm": nn.LSTM}

    def __init__(self, input_size: int, hidden_size: int = 256, layers: int = 2,
                 dropout: float = 0.2) -> None:
        super().__init__()
        self.input_size = input_size
        self.add_module(self.cell, self._CELLS[self.cell](
            input_size, hidden_size, num_layers=layers, batch_first=True, bidirectional=True,
            dropout=dropout if layers > 1 else 0.0))
        self.feature_dim: int = 2 * hidden_size

    @property
    def recurrent(self) -> nn.RNNBase:
        """The stacked bidirectional recurrence."""
        return getattr(self, self.cell)

    @classmethod
    def from_config(cls, config: BiGRUConfig, *, layout: Layout, in_channels: int,
                    persons: int) -> BiGRU:
        """Build for frames of ``persons × layout joints × in_channels`` values."""
        return cls(persons * layout.num_joints * in_channels, config.hidden_size,
                   config.layers, config.dropout)

    def frames(self, x: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        """Per-frame outputs [N, T, 2H] (both directions), zero beyond each length."""
        if lengths is None:
            lengths = full_lengths(x)
        sequence = flatten_frames(x)
        if sequence.shape[2] != self.input_size:
            raise ValueError(f"{type(self).__name__} built for {self.input_size} values per "
                             f"frame, got {sequence.shape[2]} (persons × joints × channels)")
        packed = pack_padded_sequence(sequence, lengths.cpu().clamp(min=1), batch_first=True,
                                      enforce_sorted=False)
        out, _ = self.recurrent(packed)
        out, _ = pad_packed_sequence(out, batch_first=True, total_length=x.shape[2])
        return out

    def forward(self, x: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        if lengths is None:
            lengths = full_lengths(x)
        return temporal_average(self.frames(x, lengths), lengths)


class BiLSTM(BiGRU):
    """Bidirectional LSTM with the same input, packing and pooling as :class:`BiGRU`."""

    Config = BiLSTMConfig
    cell = "lstm"


class GRUDecoder(nn.Module):
    """Unidirectional GRU whose hidden size is the frame size: its raw outputs are frames.

    Fed one latent vector repeated for every output frame (CRRL's SER); outputs lie in
    (−1, 1), so targets must be scaled there (min-max preprocessing).
    """

    def __init__(self, latent_size: int, frame_size: int, layers: int = 2,
                 dropout: float = 0.2) -> None:
        super().__init__()
        self.gru = nn.GRU(latent_size, frame_size, num_layers=layers, batch_first=True,
                          dropout=dropout if layers > 1 else 0.0)

    def forward(self, latent: torch.Tensor, frames: int) -> torch.Tensor:
        """latent[N, D] → frames[N, frames, frame_size]."""
        out, _ = self.gru(latent[:, None, :].expand(-1, frames, -1).contiguous())
        return out
