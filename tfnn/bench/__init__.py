"""Benchmarks: tfnn's runner against plain Keras, measured side by side in one run."""
