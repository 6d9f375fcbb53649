"""Sequence encoders: a bidirectional GRU or LSTM over flattened frames, and CRRL's GRU decoder.

A frame of x[N, C, T, V, M] is flattened to M·V·C values (persons, then joints, then
coordinates: 150 for NTU, 60 for one NW-UCLA person). Padded frames beyond each sample's length
are packed away, so they never reach the recurrence. One configurable class serves CRRL
(2 × 256 per direction, features = temporal average: 1.81 M parameters on NTU) and ISC
(3 × 1024 per direction, features = the last step: 45.0 M parameters on NTU); ISC's released
code runs its "backward" direction forward in time too (``direction: forward_pair``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar, Literal

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from skelssl.schema import AtLeastOne, DropRate
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
    hidden_size: AtLeastOne = 256  # per direction; features are 2 × hidden_size
    layers: AtLeastOne = 2
    dropout: DropRate = 0.2  # between stacked layers
    # mean: average of the outputs over valid frames (CRRL) | last: the output at the last
    # valid frame (ISC) | final_states: each direction's output after its whole pass (the
    # forward one at the last frame, the backward one at the first)
    pooling: Literal["mean", "last", "final_states"] = "mean"
    # bidirectional: a true BiGRU | forward_pair: two directions that both run forward in time,
    # layer by layer (ISC's released code)
    direction: Literal["bidirectional", "forward_pair"] = "bidirectional"
    # torch: PyTorch's U(±1/√hidden) | xavier: Xavier-uniform weight matrices, biases as torch
    # (ISC's released code)
    init: Literal["torch", "xavier"] = "torch"


@dataclass
class BiLSTMConfig(BiGRUConfig):
    """Encoder section for the bidirectional LSTM (CrosSCLR's recurrent variant)."""

    name: str = "bilstm"


CELLS: dict[str, Callable[..., nn.RNNBase]] = {"gru": nn.GRU, "lstm": nn.LSTM}


def run_packed(recurrence: nn.Module, sequence: torch.Tensor, lengths: torch.Tensor
               ) -> torch.Tensor:
    """Outputs [N, T, D] of a batch-first recurrence over each sample's valid frames only
    (zero beyond each length)."""
    packed = pack_padded_sequence(sequence, lengths.cpu().clamp(min=1), batch_first=True,
                                  enforce_sorted=False)
    out, _ = recurrence(packed)
    out, _ = pad_packed_sequence(out, batch_first=True, total_length=sequence.shape[1])
    return out


class ForwardPair(nn.Module):
    """ISC's released "bidirectional" recurrence: per layer, two recurrences that both read the
    sequence forward; their outputs are concatenated and feed the next layer."""

    def __init__(self, cell: Callable[..., nn.RNNBase], input_size: int, hidden_size: int,
                 layers: int, dropout: float) -> None:
        super().__init__()
        sizes = [input_size] + [2 * hidden_size] * (layers - 1)
        self.first = nn.ModuleList(cell(size, hidden_size, batch_first=True) for size in sizes)
        self.second = nn.ModuleList(cell(size, hidden_size, batch_first=True) for size in sizes)
        self.dropout = nn.Dropout(dropout)

    def forward(self, sequence: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        for i, (first, second) in enumerate(zip(self.first, self.second, strict=True)):
            if i:
                sequence = self.dropout(sequence)
            sequence = torch.cat([run_packed(first, sequence, lengths),
                                  run_packed(second, sequence, lengths)], dim=2)
        return sequence


class BiGRU(nn.Module):
    """Bidirectional GRU: x[N, C, T, V, M] (+ lengths) → features [N, 2H] pooled over time."""

    Config: type = BiGRUConfig
    provides: ClassVar[frozenset[str]] = frozenset({"frames"})
    cell = "gru"  # the recurrent module's attribute name and type

    def __init__(self, input_size: int, hidden_size: int = 256, layers: int = 2,
                 dropout: float = 0.2, pooling: str = "mean",
                 direction: str = "bidirectional", init: str = "torch") -> None:
        super().__init__()
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.pooling = pooling
        cell = CELLS[self.cell]
        if direction == "bidirectional":
            recurrence: nn.Module = cell(input_size, hidden_size, num_layers=layers,
                                         batch_first=True, bidirectional=True,
                                         dropout=dropout if layers > 1 else 0.0)
        else:
            recurrence = ForwardPair(cell, input_size, hidden_size, layers, dropout)
        if init == "xavier":
            for weight in recurrence.parameters():
                if weight.dim() == 2:
                    nn.init.xavier_uniform_(weight)
        self.add_module(self.cell, recurrence)
        self.direction = direction
        self.feature_dim: int = 2 * hidden_size

    @property
    def recurrent(self) -> nn.Module:
        """The stacked recurrence (both directions)."""
        return getattr(self, self.cell)

    @classmethod
    def from_config(cls, config: BiGRUConfig, *, layout: Layout, in_channels: int,
                    persons: int) -> BiGRU:
        """Build for frames of ``persons × layout joints × in_channels`` values."""
        return cls(persons * layout.num_joints * in_channels, config.hidden_size,
                   config.layers, config.dropout, config.pooling, config.direction, config.init)

    def frames(self, x: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        """Per-frame outputs [N, T, 2H] (both directions), zero beyond each length."""
        if lengths is None:
            lengths = full_lengths(x)
        sequence = flatten_frames(x)
        if sequence.shape[2] != self.input_size:
            raise ValueError(f"{type(self).__name__} built for {self.input_size} values per "
                             f"frame, got {sequence.shape[2]} (persons × joints × channels)")
        if self.direction == "bidirectional":
            return run_packed(self.recurrent, sequence, lengths)
        return self.recurrent(sequence, lengths)

    def forward(self, x: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        if lengths is None:
            lengths = full_lengths(x)
        frames = self.frames(x, lengths)
        if self.pooling == "mean":
            return temporal_average(frames, lengths)
        last = last_valid(frames, lengths)
        if self.pooling == "last" or self.direction == "forward_pair":
            return last  # a forward pair's two halves both end at the last frame
        return torch.cat([last[:, :self.hidden_size], frames[:, 0, self.hidden_size:]], dim=1)


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
