"""A seeded 2-D data set whose classes are concentric rings (circular class boundaries)."""

from __future__ import annotations

import numpy as np

from tfnn.data import Dataset
from tfnn.errors import ConfigError

# A disc of radius 2 gives each coordinate a standard deviation of 1, the scale the
# network's initialisation assumes.
DISC_RADIUS = 2.0


def ring_boundaries(num_classes: int = 5, radius: float = DISC_RADIUS) -> np.ndarray:
    """Inner radii of rings 1..num_classes-1; equal areas, so the classes are balanced."""
    return radius * np.sqrt(np.arange(1, num_classes) / num_classes)


def make_circles(
    n_samples: int,
    *,
    num_classes: int = 5,
    label_noise: float = 0.0,
    seed: int = 0,
    radius: float = DISC_RADIUS,
) -> tuple[np.ndarray, np.ndarray]:
    """Points uniform in a disc, labelled by which concentric ring they fall in.

    Args:
        n_samples: Number of points.
        num_classes: Number of rings (class 0 is the innermost).
        label_noise: Probability that a label is replaced by a different, random class.
        seed: Seed of the points and of the label noise.
        radius: Radius of the disc.

    Returns:
        ``(x, labels)``: float64 points of shape ``(n_samples, 2)`` and int64 labels.
    """
    if not isinstance(n_samples, int) or n_samples < 1:
        raise ConfigError(f"n_samples = {n_samples!r}: must be an integer >= 1")
    if not isinstance(num_classes, int) or num_classes < 2:
        raise ConfigError(f"num_classes = {num_classes!r}: must be an integer >= 2")
    if not 0.0 <= label_noise < 1.0:
        raise ConfigError(f"label_noise = {label_noise!r}: must be in [0, 1)")
    random = np.random.default_rng(seed)
    # sqrt of a uniform radius fraction makes the points uniform in area, not in radius.
    distance = radius * np.sqrt(random.uniform(size=n_samples))
    angle = random.uniform(0.0, 2 * np.pi, size=n_samples)
    x = np.stack([distance * np.cos(angle), distance * np.sin(angle)], axis=1)
    labels = np.searchsorted(ring_boundaries(num_classes, radius), distance, side="right")
    flipped = random.uniform(size=n_samples) < label_noise
    # Adding 1..num_classes-1 modulo num_classes always lands on a different class.
    shift = random.integers(1, num_classes, size=n_samples)
    labels = np.where(flipped, (labels + shift) % num_classes, labels)
    return x, labels.astype(np.int64)


def circles_dataset(
    n_samples: int = 1000,
    test_fraction: float = 0.2,
    *,
    num_classes: int = 5,
    label_noise: float = 0.0,
    seed: int = 0,
) -> Dataset:
    """The rings data split into train and test sets.

    The points are drawn independently, so the last ``round(n_samples · test_fraction)``
    are the test set without any shuffling.
    """
    n_test = round(n_samples * test_fraction)
    if not 1 <= n_test < n_samples:
        raise ConfigError(
            f"test_fraction = {test_fraction!r}: must leave at least one training and one "
            f"test sample of {n_samples}"
        )
    x, labels = make_circles(n_samples, num_classes=num_classes, label_noise=label_noise, seed=seed)
    x = x.astype(np.float32)
    n_train = n_samples - n_test
    return Dataset(
        x_train=x[:n_train],
        y_train=labels[:n_train],
        x_test=x[n_train:],
        y_test=labels[n_train:],
        num_classes=num_classes,
        name="circles",
    )
