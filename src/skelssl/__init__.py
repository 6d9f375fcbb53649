"""skelssl: self-supervised representation learning on human skeleton sequences."""

__version__ = "0.1.0"
