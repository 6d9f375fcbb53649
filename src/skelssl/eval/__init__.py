"""Evaluation protocols on frozen or fine-tuned encoders: features, linear probe, kNN, plots."""
