"""Encoders (x[N, C, T, V, M] → features[N, D], with ``feature_dim``) and heads."""
