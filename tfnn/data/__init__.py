"""Data loaders. Each returns a :class:`Dataset` of numpy arrays scaled for training."""

from tfnn.data.dataset import Dataset

__all__ = ["Dataset"]
