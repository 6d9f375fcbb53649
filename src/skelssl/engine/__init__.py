"""Training engine: the epoch loop, checkpoints, exact resume, logging, DDP."""
