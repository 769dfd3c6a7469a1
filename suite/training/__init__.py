"""The epoch loop and the run that every backend shares: batches, evaluation, timing, TensorBoard."""
