"""The in-memory container every loader returns."""

from __future__ import annotations

import dataclasses

import numpy as np


@dataclasses.dataclass(frozen=True)
class Dataset:
    """Train/test arrays of one data set.

    Attributes:
        x_train: Training inputs, float32, scaled as the experiment expects.
        y_train: Integer class labels, shape ``(n_train,)``.
        x_test: Test inputs, same layout as ``x_train``.
        y_test: Integer class labels, shape ``(n_test,)``.
        num_classes: Number of classes.
        name: Short name used in run directories and reports.
        image_shape: Shape of one input as an image (for sprites and image grids),
            or ``None`` when inputs are not images.
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    num_classes: int
    name: str
    image_shape: tuple[int, ...] | None = None

    @property
    def input_shape(self) -> tuple[int, ...]:
        return tuple(self.x_train.shape[1:])

    def subset(self, train: int | None = None, test: int | None = None) -> Dataset:
        """Returns the first ``train`` training and ``test`` test samples."""
        return dataclasses.replace(
            self,
            x_train=self.x_train[:train],
            y_train=self.y_train[:train],
            x_test=self.x_test[:test],
            y_test=self.y_test[:test],
        )
