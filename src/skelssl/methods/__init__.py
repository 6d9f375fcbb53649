"""Self-supervised methods. Each is an ``nn.Module`` with ``training_step(batch, epoch)``
returning a dict holding ``"loss"``, optional ``on_epoch_start(epoch)``, and ``encoders()``."""

from skelssl.methods.skeletonclr import SkeletonCLR

METHODS = {"skeletonclr": SkeletonCLR}

__all__ = ["METHODS", "SkeletonCLR"]
