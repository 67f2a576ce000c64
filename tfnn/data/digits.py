"""scikit-learn's load_digits: 1,797 8x8 images, embedded, no download."""

from __future__ import annotations

import numpy as np
from sklearn.datasets import load_digits as sklearn_load_digits
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from tfnn.data.dataset import Dataset

# The assignment's starter trains on the first 1,500 samples and tests on the other 297.
ASSIGNMENT_TRAIN_SIZE = 1500
STRATIFIED_TEST_FRACTION = 0.2


def load_digits(split: str = "stratified", seed: int = 0) -> Dataset:
    """Loads load_digits as flat float32 features and int64 labels.

    Args:
        split: ``stratified``: seeded stratified 80/20 split, pixels scaled to
            [0, 1] (divided by 16). ``assignment``: first 1,500 samples train,
            the last 297 test, features standardized with the training mean/std,
            as in the CS-587 starter code.
        seed: Seed of the stratified split (ignored by ``assignment``).
    """
    bunch = sklearn_load_digits()
    features = bunch.data.astype(np.float32)
    labels = bunch.target.astype(np.int64)
    if split == "assignment":
        x_train, x_test = features[:ASSIGNMENT_TRAIN_SIZE], features[ASSIGNMENT_TRAIN_SIZE:]
        y_train, y_test = labels[:ASSIGNMENT_TRAIN_SIZE], labels[ASSIGNMENT_TRAIN_SIZE:]
        scaler = StandardScaler().fit(x_train)
        x_train = scaler.transform(x_train).astype(np.float32)
        x_test = scaler.transform(x_test).astype(np.float32)
    elif split == "stratified":
        x_train, x_test, y_train, y_test = train_test_split(
            features / 16.0,
            labels,
            test_size=STRATIFIED_TEST_FRACTION,
            stratify=labels,
            random_state=seed,
        )
    else:
        raise ValueError(f"unknown split {split!r}")
    return Dataset(
        x_train=x_train.astype(np.float32),
        y_train=y_train,
        x_test=x_test.astype(np.float32),
        y_test=y_test,
        num_classes=10,
        name="digits",
        image_shape=(8, 8),
    )
