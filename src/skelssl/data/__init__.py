"""Skeleton data: raw readers, preparation, prepared datasets and the synthetic dataset."""
