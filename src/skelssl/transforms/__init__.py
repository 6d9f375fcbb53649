"""Batched, device-agnostic tensor ops on skeleton batches ``x[N, C, T, V, M]``."""
