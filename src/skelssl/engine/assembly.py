"""A run's pieces built from its config: the method on its dataset, the batch preprocessing."""

from __future__ import annotations

from torch import nn

from skelssl.config import DataConfig, RunConfig
from skelssl.data.dataset import PreparedDataset
from skelssl.methods import build_method
from skelssl.skeleton import Layout
from skelssl.transforms.preprocess import Preprocess


def build_run_method(config: RunConfig, data: PreparedDataset) -> nn.Module:
    """The config's method with its encoders sized for ``data`` (layout and channels)."""
    return build_method(config.method, config.encoder_sections(), layout=data.layout,
                        channels=data.channels, persons=config.data.persons)


def preprocess_for(data: DataConfig, layout: Layout) -> Preprocess:
    """The per-batch preprocessing of a config's ``data`` section."""
    return Preprocess(layout, **data.preprocessing())
