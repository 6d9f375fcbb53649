"""Weight initialisation shared by the ST-GCN family."""

from __future__ import annotations

from torch import nn


def init_stgcn_weights(module: nn.Module, std: float = 0.02) -> None:
    """Conv/linear weights N(0, std) and zero bias; BatchNorm weights N(1, std), zero bias."""
    for m in module.modules():
        if isinstance(m, (nn.Conv1d, nn.Conv2d, nn.Linear)):
            nn.init.normal_(m.weight, 0.0, std)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
            nn.init.normal_(m.weight, 1.0, std)
            nn.init.zeros_(m.bias)
