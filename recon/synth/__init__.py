"""Synthetic statements and internal exports for samples, tests and benchmarks."""
