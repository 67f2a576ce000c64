"""The search's splits of the training data (TensorFlow-free: the scikit-learn peer
benchmark uses the very same split)."""

from __future__ import annotations

import dataclasses

import numpy as np
from sklearn.model_selection import StratifiedKFold, train_test_split

from tfnn.data.dataset import Dataset
from tfnn.errors import ConfigError

__all__ = ["SearchData", "fold_indices", "split_for_search"]


@dataclasses.dataclass(frozen=True)
class SearchData:
    """The data of one search, loaded once and shared by every trial.

    Attributes:
        dataset: The experiment's train/test split; the best configuration is
            retrained on all of ``x_train`` and tested once on ``x_test``.
        x_fit: The part of ``x_train`` the trials train on.
        y_fit: Its labels.
        x_validation: The held-out part of ``x_train`` that selects the trial.
        y_validation: Its labels.
    """

    dataset: Dataset
    x_fit: np.ndarray
    y_fit: np.ndarray
    x_validation: np.ndarray
    y_validation: np.ndarray


def split_for_search(dataset: Dataset, fraction: float, seed: int) -> SearchData:
    """Holds out a seeded, stratified ``fraction`` of the training split for selection."""
    try:
        x_fit, x_validation, y_fit, y_validation = train_test_split(
            dataset.x_train,
            dataset.y_train,
            test_size=fraction,
            stratify=dataset.y_train,
            random_state=seed,
        )
    except ValueError as error:
        raise ConfigError(
            f"{{validation_fraction}} {fraction!r} cannot split {len(dataset.x_train)} "
            f"training samples by class: {error}"
        ) from None
    return SearchData(dataset, x_fit, y_fit, x_validation, y_validation)


def fold_indices(labels: np.ndarray, folds: int, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """(train, validation) index pairs of a seeded, stratified ``folds``-fold split
    (the cross-validation that chooses among the search's best trials)."""
    try:
        splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
        return list(splitter.split(np.zeros(len(labels)), labels))
    except ValueError as error:
        raise ConfigError(
            f"{{cv_folds}} {folds}: cannot split {len(labels)} training samples by class: {error}"
        ) from None
