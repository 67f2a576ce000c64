"""The tuner benchmark's peer: scikit-learn's ``MLPClassifier`` + ``RandomizedSearchCV``.

The same protocol as `tfnn tune digits`: the same stratified split and the same
held-out validation part of the training split (a ``PredefinedSplit``, one fold),
the same number of random candidates over the equivalent space, the best refit on
the whole training split and tested once. TensorFlow is not imported.

Run as ``python -m tfnn.bench.sklearn_peer TRIALS N_JOBS [MAX_ITER_CAP]`` by the
harness, which prints one JSON line.
"""

from __future__ import annotations

import json
import math
import sys
import time
import warnings

import numpy as np
from scipy import stats
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import PredefinedSplit, RandomizedSearchCV
from sklearn.neural_network import MLPClassifier

from tfnn.data.digits import load_digits
from tfnn.tuning.splits import split_for_search

# What `tfnn tune digits` uses by default (TuneConfig): seed 0, 20% held out.
SEED = 0
VALIDATION_FRACTION = 0.2
MAX_ITER_CHOICES = (10, 20, 40, 80)


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


def sklearn_random_search(trials: int, n_jobs: int, max_iter_cap: int = 0) -> dict:
    """Runs the peer search; returns wall time, best validation and test accuracy."""
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
        refit=True,  # on fit + validation = the whole training split, like tfnn tune
        random_state=SEED,
        error_score=0.0,  # a diverged candidate scores 0, as a failed trial is never picked
    )
    started = time.perf_counter()
    with warnings.catch_warnings():
        # max_iter is the epoch budget here, not a convergence limit.
        warnings.simplefilter("ignore", ConvergenceWarning)
        search.fit(x, y)
    wall_seconds = time.perf_counter() - started
    results = search.cv_results_
    fit_seconds = float(np.sum(results["mean_fit_time"]) + np.sum(results["mean_score_time"]))
    search_seconds = wall_seconds - search.refit_time_
    best = dict(search.best_params_)
    best["hidden_layer_sizes"] = list(best["hidden_layer_sizes"])
    return {
        "trials": trials,
        "n_jobs": n_jobs,
        "max_iter_cap": max_iter_cap,
        "wall_s": round(wall_seconds, 3),
        "search_wall_s": round(search_seconds, 3),
        "refit_s": round(search.refit_time_, 3),
        "trials_per_minute": round(trials / search_seconds * 60, 2),
        "fit_and_score_s": round(fit_seconds, 3),
        "overhead_percent": round(
            100 * (n_jobs * search_seconds - fit_seconds) / (n_jobs * search_seconds), 2
        ),
        "failed": int(np.sum(results["mean_test_score"] == 0.0)),
        "best_val_accuracy": round(float(search.best_score_), 4),
        "test_accuracy": round(float(search.score(data.dataset.x_test, data.dataset.y_test)), 4),
        "validation_samples": len(data.x_validation),
        "test_samples": len(data.dataset.x_test),
        "best": best,
    }


if __name__ == "__main__":
    trials, n_jobs = int(sys.argv[1]), int(sys.argv[2])
    cap = int(sys.argv[3]) if len(sys.argv) > 3 else 0
    print(json.dumps(sklearn_random_search(trials, n_jobs, cap)), flush=True)
