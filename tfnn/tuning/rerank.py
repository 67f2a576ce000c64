"""Choosing among the search's best trials by k-fold cross-validation.

A trial is scored on one held-out part of the training split (288 images for
digits, where one image is 0.35 points), and the best of 160 such scores is
partly luck: in a 160-trial digits search the top ten trials were one or two
images apart. So the best ``top`` trials are scored again by stratified k-fold
cross-validation over the whole training split (every training image validates
exactly once, each fold trains as the trial did), and the best mean wins. The
test set is still touched only by the retrained winner.

Each configuration's fold results go into its trial directory (``cv.json``),
so reporting again after a kill reuses what was already measured, and with
``--workers N`` N processes measure their shares and the report reads them.
"""

from __future__ import annotations

import dataclasses
import json
import math
import statistics
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import keras
import keras_tuner
import numpy as np

from tfnn.results import write_json
from tfnn.training.streams import EVALUATION_BATCH_SIZE, make_dataset
from tfnn.tuning.lanes import search_lanes
from tfnn.tuning.pack_network import PackError
from tfnn.tuning.packed_cv import cross_validate_packed
from tfnn.tuning.splits import fold_indices
from tfnn.tuning.trial_memory import custom_gradient_names, forget_custom_gradients

CV_FILE = "cv.json"


def metric(trial, name: str) -> float | None:
    if not trial.metrics.exists(name):
        return None
    return float(trial.metrics.get_last_value(name))


def rank_trials(trials: list, objective: str) -> list:
    """Best first by the objective; ties (accuracy on a few hundred samples moves in
    steps of 1/n) go to the better other metric, then the lower trial id, so the
    pick does not depend on the order in which workers finished."""

    def key(trial) -> tuple:
        accuracy = metric(trial, "val_accuracy")
        loss = metric(trial, "val_loss")
        accuracy = -math.inf if accuracy is None else accuracy
        loss = math.inf if loss is None else loss
        if objective == "val_loss":
            return (trial.score, -accuracy, trial.trial_id)
        return (-trial.score, loss, trial.trial_id)

    return sorted(trials, key=key)


@dataclasses.dataclass(frozen=True)
class CrossValidation:
    """One configuration's k-fold scores (NaN accuracy and loss for a diverged fold)."""

    trial_id: str
    accuracies: tuple[float, ...]
    losses: tuple[float, ...]
    seconds: float

    @property
    def failed(self) -> bool:
        return not all(math.isfinite(value) for value in (*self.accuracies, *self.losses))

    @property
    def mean_accuracy(self) -> float:
        return -math.inf if self.failed else statistics.fmean(self.accuracies)

    @property
    def mean_loss(self) -> float:
        return math.inf if self.failed else statistics.fmean(self.losses)

    @property
    def accuracy_std(self) -> float:
        return math.nan if self.failed else statistics.pstdev(self.accuracies)

    def to_dict(self) -> dict:
        return {
            "trial_id": self.trial_id,
            "folds": len(self.accuracies),
            # JSON has no NaN: a diverged fold is written as null.
            "accuracies": [_finite_or_none(value) for value in self.accuracies],
            "losses": [_finite_or_none(value) for value in self.losses],
            "mean_accuracy": _finite_or_none(self.mean_accuracy),
            "accuracy_std": _finite_or_none(self.accuracy_std),
            "mean_loss": _finite_or_none(self.mean_loss),
            "seconds": round(self.seconds, 3),
        }


def _finite_or_none(value: float) -> float | None:
    return value if math.isfinite(value) else None


def _from_dict(values: dict) -> CrossValidation:
    def numbers(key: str) -> tuple[float, ...]:
        return tuple(math.nan if value is None else float(value) for value in values[key])

    return CrossValidation(
        str(values["trial_id"]), numbers("accuracies"), numbers("losses"), values["seconds"]
    )


def cross_validate(
    hypermodel,
    hp: keras_tuner.HyperParameters,
    x: np.ndarray,
    y: np.ndarray,
    folds: Sequence[tuple[np.ndarray, np.ndarray]],
    trial_id: str = "",
) -> CrossValidation:
    """Trains ``hp``'s configuration on each fold's training part, exactly as a trial
    trains (same builder, seed, batch stream, epochs), and scores its validation part.

    Args:
        hypermodel: The search's ``ConfigHyperModel``.
        hp: The configuration's hyperparameter values.
        x: All training features (the folds index into them).
        y: Their labels.
        folds: From :func:`fold_indices`.
        trial_id: The trial the configuration comes from, for the record.
    """
    config = hypermodel.config_from_hp(hp)
    accuracies, losses = [], []
    started = time.perf_counter()
    for train_index, validation_index in folds:
        gradients_before = custom_gradient_names()
        keras.backend.clear_session()
        model = hypermodel.build_for(hp, len(train_index))
        history, _ = hypermodel.train(model, config, x[train_index], y[train_index])
        if math.isfinite(history.history["loss"][-1]):
            validation = make_dataset(
                x[validation_index], y[validation_index], EVALUATION_BATCH_SIZE, False, 0
            )
            loss, accuracy = model.evaluate(validation, verbose=0)
        else:
            loss = accuracy = math.nan
        accuracies.append(float(accuracy))
        losses.append(float(loss))
        forget_custom_gradients(gradients_before)
    return CrossValidation(
        trial_id, tuple(accuracies), tuple(losses), time.perf_counter() - started
    )


def _cached(path: Path, folds: int) -> CrossValidation | None:
    try:
        values = json.loads(path.read_text())
        if values["folds"] == folds:
            return _from_dict(values)
    except (OSError, ValueError, KeyError, TypeError):
        pass  # missing, cut short by a kill, or another fold count: measure again
    return None


def rank_by_cross_validation(
    results: Sequence[CrossValidation], objective: str
) -> list[CrossValidation]:
    """Best first: highest mean accuracy (lowest mean loss for ``val_loss``), the other
    mean breaking ties, then the order the candidates came in (their validation rank)."""
    order = {result.trial_id: index for index, result in enumerate(results)}

    def key(result: CrossValidation) -> tuple:
        if objective == "val_loss":
            return (result.mean_loss, -result.mean_accuracy, order[result.trial_id])
        return (-result.mean_accuracy, result.mean_loss, order[result.trial_id])

    return sorted(results, key=key)


def rerank_trials(
    hypermodel,
    trials: Sequence,
    project_dir: Path,
    folds: int,
    seed: int,
    objective: str,
    print_fn: Callable[..., None] = print,
) -> list[CrossValidation]:
    """Cross-validates each of ``trials`` (ranked by the search, best first) on the
    whole training split and returns them ranked by cross-validation, best first.
    A trial whose ``cv.json`` holds ``folds`` folds is read, not trained again."""
    dataset = hypermodel.data.dataset
    split = fold_indices(dataset.y_train, folds, seed)
    by_trial: dict[str, CrossValidation] = {}
    for trial in trials:
        result = _cached(project_dir / f"trial_{trial.trial_id}" / CV_FILE, folds)
        if result is not None:
            by_trial[trial.trial_id] = result
    cached = len(by_trial)
    uncached = [trial for trial in trials if trial.trial_id not in by_trial]
    position = {trial.trial_id: index for index, trial in enumerate(trials, start=1)}

    def done(result: CrossValidation) -> None:
        by_trial[result.trial_id] = result
        write_json(project_dir / f"trial_{result.trial_id}" / CV_FILE, result.to_dict())
        outcome = (
            "a fold diverged"
            if result.failed
            else f"accuracy {result.mean_accuracy:.4f} ± {result.accuracy_std:.4f}, "
            f"loss {result.mean_loss:.4f}"
        )
        print_fn(
            f"cross-validation {position[result.trial_id]} of {len(trials)}: trial "
            f"{result.trial_id}, {folds} folds: {outcome} ({result.seconds:.1f} s)",
            flush=True,
        )

    pack = hypermodel.tune_config.pack_size
    if pack > 1 and uncached:
        try:
            cross_validate_packed(
                hypermodel,
                [(trial.trial_id, trial.hyperparameters.copy()) for trial in uncached],
                dataset.x_train,
                dataset.y_train,
                split,
                pack,
                on_done=lambda *scores: done(CrossValidation(*scores)),
                lanes=search_lanes(hypermodel.tune_config),
            )
            uncached = []
        except PackError:
            pass  # a model packs cannot reproduce: cross-validated one at a time
    for trial in uncached:
        done(
            cross_validate(
                hypermodel,
                trial.hyperparameters.copy(),
                dataset.x_train,
                dataset.y_train,
                split,
                trial.trial_id,
            )
        )
    if cached:
        print_fn(f"cross-validation of {cached} of {len(trials)} trials read from {CV_FILE}")
    return rank_by_cross_validation([by_trial[trial.trial_id] for trial in trials], objective)
