"""The tuner benchmark's peer: scikit-learn's ``MLPClassifier`` + ``RandomizedSearchCV``.

The same protocol as `tfnn tune digits`: the same stratified split and the same
held-out validation part of the training split (a ``PredefinedSplit``, one fold),
the same number of random candidates over the equivalent space, the best
``RERANK_TOP`` of them cross-validated on the same folds of the whole training
split, the best mean refit on the whole training split and tested once.
TensorFlow is not imported.

Run as ``python -m tfnn.bench.sklearn_peer TRIALS N_JOBS [MAX_ITER_CAP [RERANK_TOP
[CV_FOLDS]]]`` by the harness, which prints one JSON line.
"""

from __future__ import annotations

import json
import math
import sys
import time
import warnings

import numpy as np
from scipy import stats
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import PredefinedSplit, RandomizedSearchCV, cross_val_score
from sklearn.neural_network import MLPClassifier

from tfnn.data.digits import load_digits
from tfnn.tuning.splits import fold_indices, split_for_search

# What `tfnn tune digits` uses by default (TuneConfig): seed 0, 20% held out.
SEED = 0
VALIDATION_FRACTION = 0.2
MAX_ITER_CHOICES = (10, 20, 40, 80)
# What `tfnn tune` cross-validates by default (TuneConfig.rerank_top, cv_folds).
RERANK_TOP = 10
CV_FOLDS = 5


class LogUniformWidth:
    """One hidden layer of ``low``-``high`` units, log-uniform like keras-tuner's
    ``Int(sampling="log")``; ``rvs`` returns the ``hidden_layer_sizes`` tuple."""

    def __init__(self, low: int, high: int):
        self.low, self.high = low, high

    def rvs(self, random_state=None) -> tuple[int]:
        width = stats.loguniform(self.low, self.high + 1).rvs(random_state=random_state)
        return (min(self.high, math.floor(width)),)


def parameter_space(max_iter_cap: int = 0) -> dict:
    """The tfnn digits space in scikit-learn's terms (``max_iter`` = epochs).

    Args:
        max_iter_cap: Cap the ``max_iter`` choices like ``tfnn tune --max-epochs``
            (0: no cap).
    """
    max_iter = [value for value in MAX_ITER_CHOICES if not max_iter_cap or value <= max_iter_cap]
    return {
        "hidden_layer_sizes": LogUniformWidth(4, 256),
        "activation": ["logistic", "relu", "tanh"],
        "solver": ["adam", "sgd"],
        "learning_rate_init": stats.loguniform(1e-3, 1.0),
        "alpha": stats.loguniform(1e-6, 1e-1),
        "batch_size": [16, 32, 64, 128, 256],
        "max_iter": max_iter or [max_iter_cap],
    }


def cross_validated_choice(
    search: RandomizedSearchCV, x, y, top: int, folds: int, n_jobs: int
) -> tuple[dict, list[dict]]:
    """The best mean over ``folds`` folds (tfnn's folds) among the search's ``top``
    candidates by validation accuracy; ties go to the better validation rank.

    Returns:
        (the chosen parameters, one row per candidate, best first).
    """
    results = search.cv_results_
    order = sorted(range(len(results["params"])), key=lambda i: results["rank_test_score"][i])
    split = fold_indices(y, folds, SEED)
    rows = []
    for rank, index in enumerate(order[:top]):
        params = results["params"][index]
        estimator = clone(search.estimator).set_params(**params)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            scores = cross_val_score(
                estimator, x, y, cv=split, scoring="accuracy", n_jobs=n_jobs, error_score=0.0
            )
        rows.append(
            {
                "validation_rank": rank + 1,
                "val_accuracy": round(float(results["mean_test_score"][index]), 4),
                "cv_accuracy": round(float(np.mean(scores)), 4),
                "params": params,
            }
        )
    rows.sort(key=lambda row: (-row["cv_accuracy"], row["validation_rank"]))
    return rows[0]["params"], rows


def _printable(params: dict) -> dict:
    return {
        key: list(value) if isinstance(value, tuple) else value for key, value in params.items()
    }


def sklearn_random_search(
    trials: int,
    n_jobs: int,
    max_iter_cap: int = 0,
    rerank_top: int = RERANK_TOP,
    cv_folds: int = CV_FOLDS,
) -> dict:
    """Runs the peer search; returns wall times, best validation and test accuracy.

    Args:
        rerank_top: Candidates cross-validated before choosing (0 or 1: the
            validation split alone chooses), like `tfnn tune --rerank-top`.
        cv_folds: Their folds, like `tfnn tune --cv-folds`.
    """
    data = split_for_search(load_digits("stratified", SEED), VALIDATION_FRACTION, SEED)
    x = np.concatenate([data.x_fit, data.x_validation])
    y = np.concatenate([data.y_fit, data.y_validation])
    # -1: always trained on; 0: the one validation fold.
    folds = np.concatenate([np.full(len(data.x_fit), -1), np.zeros(len(data.x_validation))])
    search = RandomizedSearchCV(
        MLPClassifier(random_state=SEED),
        parameter_space(max_iter_cap),
        n_iter=trials,
        scoring="accuracy",
        n_jobs=n_jobs,
        cv=PredefinedSplit(folds),
        refit=False,  # the chosen candidate is refit below, on the whole training split
        random_state=SEED,
        error_score=0.0,  # a diverged candidate scores 0, as a failed trial is never picked
    )
    started = time.perf_counter()
    with warnings.catch_warnings():
        # max_iter is the epoch budget here, not a convergence limit.
        warnings.simplefilter("ignore", ConvergenceWarning)
        search.fit(x, y)
    search_seconds = time.perf_counter() - started
    dataset = data.dataset
    chosen, cross_validation = search.best_params_, []
    if rerank_top > 1:
        chosen, cross_validation = cross_validated_choice(
            search, dataset.x_train, dataset.y_train, rerank_top, cv_folds, n_jobs
        )
    cv_seconds = time.perf_counter() - started - search_seconds
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = clone(search.estimator).set_params(**chosen).fit(dataset.x_train, dataset.y_train)
    wall_seconds = time.perf_counter() - started
    results = search.cv_results_
    fit_seconds = float(np.sum(results["mean_fit_time"]) + np.sum(results["mean_score_time"]))
    chosen_index = results["params"].index(chosen)
    return {
        "trials": trials,
        "n_jobs": n_jobs,
        "max_iter_cap": max_iter_cap,
        "wall_s": round(wall_seconds, 3),
        "search_wall_s": round(search_seconds, 3),
        "cv_s": round(cv_seconds, 3),
        "selection_wall_s": round(search_seconds + cv_seconds, 3),
        "refit_s": round(wall_seconds - search_seconds - cv_seconds, 3),
        "trials_per_minute": round(trials / search_seconds * 60, 2),
        "fit_and_score_s": round(fit_seconds, 3),
        "overhead_percent": round(
            100 * (n_jobs * search_seconds - fit_seconds) / (n_jobs * search_seconds), 2
        ),
        "failed": int(np.sum(results["mean_test_score"] == 0.0)),
        "best_val_accuracy": round(float(results["mean_test_score"][chosen_index]), 4),
        "best_cv_accuracy": cross_validation[0]["cv_accuracy"] if cross_validation else None,
        "test_accuracy": round(float(model.score(dataset.x_test, dataset.y_test)), 4),
        "validation_samples": len(data.x_validation),
        "test_samples": len(dataset.x_test),
        "cv_folds": cv_folds if cross_validation else None,
        "cross_validation": [
            {**row, "params": _printable(row["params"])} for row in cross_validation
        ],
        "best": _printable(chosen),
    }


if __name__ == "__main__":
    numbers = [int(word) for word in sys.argv[1:]]
    print(json.dumps(sklearn_random_search(*numbers)), flush=True)
