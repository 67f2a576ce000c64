"""`tfnn tune`'s choice among the best trials by k-fold cross-validation."""

from __future__ import annotations

import dataclasses
import json
import math

import keras_tuner
import numpy as np
import pytest

from tfnn.configs.tune import TuneConfig
from tfnn.data.dataset import Dataset
from tfnn.errors import ConfigError
from tfnn.tuning import rerank
from tfnn.tuning.distributed import share_by_cost
from tfnn.tuning.hypermodels import DigitsHyperModel
from tfnn.tuning.packed_cv import cross_validate_packed
from tfnn.tuning.rerank import CrossValidation, rank_by_cross_validation, rerank_trials
from tfnn.tuning.splits import fold_indices, split_for_search


def test_folds_are_stratified_and_validate_every_sample_once():
    labels = np.repeat(np.arange(10), 30)
    folds = fold_indices(labels, 5, seed=0)
    assert len(folds) == 5
    validated = np.concatenate([validation for _, validation in folds])
    assert sorted(validated) == list(range(300))
    for train, validation in folds:
        assert not set(train) & set(validation)
        assert np.bincount(labels[validation], minlength=10).tolist() == [6] * 10
    again = fold_indices(labels, 5, seed=0)
    assert all(np.array_equal(a[1], b[1]) for a, b in zip(folds, again, strict=True))
    other = fold_indices(labels, 5, seed=1)
    assert not np.array_equal(folds[0][1], other[0][1])
    with pytest.raises(ConfigError) as error:
        fold_indices(np.arange(10), 20, seed=0)
    assert error.value.with_flags().startswith("--cv-folds 20")


def result(trial_id, accuracies, losses=None):
    losses = losses or [0.1] * len(accuracies)
    return CrossValidation(trial_id, tuple(accuracies), tuple(losses), 1.0)


def test_ranking_by_mean_accuracy_then_loss_then_search_order():
    candidates = [
        result("a", [0.96, 0.98]),  # mean 0.97, first by validation
        result("b", [0.99, 0.97], [0.2, 0.2]),  # mean 0.98
        result("c", [0.98, 0.98], [0.1, 0.1]),  # mean 0.98, lower loss than b
        result("d", [0.97, 0.97]),  # ties with a on both means: a came first
        result("e", [1.0, math.nan]),  # a fold diverged: last, whatever its other folds
    ]
    ranked = rank_by_cross_validation(candidates, "val_accuracy")
    assert [r.trial_id for r in ranked] == ["c", "b", "a", "d", "e"]
    by_loss = rank_by_cross_validation(candidates, "val_loss")
    assert [r.trial_id for r in by_loss] == ["c", "a", "d", "b", "e"]


def test_a_diverged_fold_is_written_as_null_and_read_back():
    diverged = result("7", [0.9, math.nan], [0.3, math.nan])
    assert diverged.failed and diverged.mean_accuracy == -math.inf
    values = json.loads(json.dumps(diverged.to_dict(), allow_nan=False))
    assert values["accuracies"] == [0.9, None] and values["mean_accuracy"] is None
    assert rerank._from_dict(values).failed


def separable_data(samples: int = 200, random_labels: bool = False):
    """Noise with the label's block of six features brightened (learnable), or noise
    with random labels."""
    rng = np.random.default_rng(0)
    labels = rng.permutation(np.arange(samples) % 10)
    features = rng.random((samples, 64), dtype=np.float32)
    if random_labels:
        labels = rng.permutation(labels)
    else:
        for index, label in enumerate(labels):
            features[index, 6 * label : 6 * label + 6] += 1.0
    dataset = Dataset(features, labels, features[:20], labels[:20], 10, "digits")
    return split_for_search(dataset, 0.2, seed=0)


def fixed_hp(hypermodel, **values) -> keras_tuner.HyperParameters:
    hp = keras_tuner.HyperParameters()
    hypermodel.declare_hyperparameters(hp)
    hypermodel.build(hp)
    hp.values.update(values)
    return hp


MEMORIZER = dict(
    hidden=256,
    activation="relu",
    optimizer="adam",
    learning_rate=0.01,
    use_l2=False,
    batch_size=16,
    epochs=80,
)


@pytest.mark.parametrize("random_labels, low, high", [(False, 0.6, 1.0), (True, 0.0, 0.3)])
def test_each_fold_scores_samples_its_model_never_trained_on(random_labels, low, high):
    # A network that memorizes 160 random labels scores at chance on held-out samples;
    # a fold scored on its own training samples would score near 1.
    data = separable_data(random_labels=random_labels)
    hypermodel = DigitsHyperModel(data, TuneConfig())
    hp = fixed_hp(hypermodel, **MEMORIZER)
    x, y = data.dataset.x_train, data.dataset.y_train
    scores = rerank.cross_validate(hypermodel, hp, x, y, fold_indices(y, 3, seed=0), "001")
    assert len(scores.accuracies) == 3 and not scores.failed
    assert low <= scores.mean_accuracy <= high


@dataclasses.dataclass
class FakeTrial:
    trial_id: str
    hyperparameters: keras_tuner.HyperParameters


def test_packed_cross_validation_scores_every_fold_as_alone():
    data = separable_data()
    hypermodel = DigitsHyperModel(data, TuneConfig())
    candidates = [
        ("001", fixed_hp(hypermodel, **{**MEMORIZER, "epochs": 6})),
        ("002", fixed_hp(hypermodel, **{**MEMORIZER, "epochs": 4, "hidden": 4})),
    ]
    x, y = data.dataset.x_train, data.dataset.y_train
    folds = fold_indices(y, 3, seed=0)
    packed = {}
    cross_validate_packed(
        hypermodel, candidates, x, y, folds, 4, lambda *scores: packed.setdefault(scores[0], scores)
    )
    for trial_id, hp in candidates:
        alone = rerank.cross_validate(hypermodel, hp, x, y, folds, trial_id)
        _, accuracies, losses, seconds = packed[trial_id]
        assert accuracies == pytest.approx(alone.accuracies, abs=1e-6)
        assert losses == pytest.approx(alone.losses, rel=1e-4)
        assert seconds > 0


def test_rerank_caches_each_trials_folds_in_its_directory(tmp_path, monkeypatch):
    data = separable_data()
    # One configuration at a time (the packed path is tested above).
    hypermodel = DigitsHyperModel(data, TuneConfig(pack=1))
    trials = [
        FakeTrial("001", fixed_hp(hypermodel, **{**MEMORIZER, "epochs": 10})),
        FakeTrial("002", fixed_hp(hypermodel, **{**MEMORIZER, "epochs": 10, "hidden": 4})),
    ]
    for trial in trials:
        (tmp_path / f"trial_{trial.trial_id}").mkdir()
    calls = []
    real = rerank.cross_validate
    monkeypatch.setattr(rerank, "cross_validate", lambda *a: calls.append(a[-1]) or real(*a))
    lines = []
    first = rerank_trials(
        hypermodel, trials, tmp_path, 2, 0, "val_accuracy", lambda line, **_: lines.append(line)
    )
    assert calls == ["001", "002"]
    assert len(lines) == 2 and lines[0].startswith("cross-validation 1 of 2: trial 001, 2 folds")
    cached = json.loads((tmp_path / "trial_001" / "cv.json").read_text())
    assert cached["folds"] == 2 and len(cached["accuracies"]) == 2

    # Reporting again (after a kill, say) measures nothing twice; other folds are new.
    again = rerank_trials(
        hypermodel, trials, tmp_path, 2, 0, "val_accuracy", lambda line, **_: lines.append(line)
    )
    assert calls == ["001", "002"]
    assert [r.to_dict() for r in again] == [r.to_dict() for r in first]
    assert lines[-1] == "cross-validation of 2 of 2 trials read from cv.json"
    rerank_trials(
        hypermodel, trials[:1], tmp_path, 3, 0, "val_accuracy", lambda line, **_: lines.append(line)
    )
    assert calls == ["001", "002", "001"]


def test_shares_of_about_equal_cost():
    costs = {"a": 5.0, "b": 4.0, "c": 3.0, "d": 3.0, "e": 1.0}
    shares = share_by_cost(costs, 2)
    assert sorted(key for share in shares for key in share) == sorted(costs)
    totals = sorted(sum(costs[key] for key in share) for share in shares)
    assert totals == [8.0, 8.0]
    assert share_by_cost({"a": 1.0}, 3) == [["a"]]  # no empty shares
