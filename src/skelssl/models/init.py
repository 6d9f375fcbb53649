"""Weight initialisation shared by the ST-GCN family: the released ST-GCN code's N(0, 0.02) and
the released 2s-AGCN code's Kaiming scheme."""

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


def conv_init(conv: nn.Conv2d) -> None:
    """Kaiming normal (fan-out) weights and zero bias, as the released 2s-AGCN code."""
    nn.init.kaiming_normal_(conv.weight, mode="fan_out")
    if conv.bias is not None:
        nn.init.zeros_(conv.bias)


def bn_init(bn: nn.BatchNorm1d | nn.BatchNorm2d, scale: float) -> None:
    nn.init.constant_(bn.weight, scale)
    nn.init.zeros_(bn.bias)


def init_kaiming_weights(module: nn.Module) -> None:
    """Every convolution by ``conv_init``, every BatchNorm at weight 1 and bias 0."""
    for m in module.modules():
        if isinstance(m, nn.Conv2d):
            conv_init(m)
        elif isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
            bn_init(m, 1.0)
