"""Experiments: config in, data + builder + runner, results out."""
