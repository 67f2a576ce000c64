"""The 2-12-5 softplus network: hand backprop, gradient checks, training, configuration."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import tensorflow as tf

from tfnn.autodiff.checks import tape_gradients
from tfnn.autodiff.circles import circles_dataset, make_circles, ring_boundaries
from tfnn.autodiff.softplus_net import (
    Parameters,
    SoftplusNetConfig,
    gradient_check,
    hand_gradients,
    initial_parameters,
    loss,
    parameter_count,
    train,
)
from tfnn.errors import ConfigError, TrainingDiverged


@pytest.fixture(scope="module")
def batch():
    x, labels = make_circles(40, seed=3)
    return x, labels


def test_parameter_count_is_101():
    parameters = initial_parameters(hidden=12, seed=0)
    assert parameter_count(parameters) == 101
    assert [tuple(p.shape) for p in parameters] == [(2, 12), (12,), (12, 5), (5,)]


def test_hand_gradients_match_the_tape(batch):
    x, labels = batch
    parameters = initial_parameters(seed=5)
    x_tensor = tf.constant(x)
    one_hot = tf.one_hot(labels, 5, dtype=tf.float64)
    hand_loss, hand = hand_gradients(parameters, x_tensor, one_hot)
    tape = tape_gradients(
        lambda *arrays: loss(Parameters(*arrays), x_tensor, one_hot),
        [parameter.numpy() for parameter in parameters],
    )
    assert float(hand_loss) == pytest.approx(float(loss(parameters, x_tensor, one_hot)), abs=1e-14)
    for hand_gradient, tape_gradient in zip(hand, tape, strict=True):
        assert np.max(np.abs(hand_gradient.numpy() - tape_gradient)) <= 1e-10


def test_finite_differences_on_all_101_parameters(batch):
    x, labels = batch
    rows = gradient_check(initial_parameters(seed=7), x, labels)
    assert sum(row.hand.size for row in rows) == 101
    for row in rows:
        assert row.relative_error <= 1e-6, row.variable
        # Element-wise too, wherever a component is not negligibly small.
        large = np.abs(row.tape) > 1e-3
        element_error = np.abs(row.finite_difference - row.tape)[large] / np.abs(row.tape)[large]
        assert np.all(element_error <= 1e-6), row.variable


def test_short_training_lowers_the_loss_and_beats_chance():
    config = SoftplusNetConfig(epochs=300)
    result = train(config)
    history = result.loss_history
    assert history.shape == (300,)
    assert history[-1] < history[0] - 0.3
    assert np.all(np.diff(history) < 1e-12)  # steepest descent at lr 0.1 never goes up here
    assert result.test_accuracy > 0.3  # chance is 0.2 with balanced rings
    assert result.train_accuracy > 0.3
    assert np.isfinite(result.test_cross_entropy)
    n_test = result.dataset.x_test.shape[0]
    assert result.confusion_matrix.shape == (5, 5)
    assert result.confusion_matrix.sum() == n_test
    predictions = result.predict(result.dataset.x_test)
    assert np.mean(predictions == result.dataset.y_test) == pytest.approx(result.test_accuracy)
    assert np.trace(result.confusion_matrix) == np.sum(predictions == result.dataset.y_test)
    probabilities = result.predict_probabilities(np.zeros((3, 2)))
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0)


def test_training_is_reproducible():
    config = SoftplusNetConfig(epochs=20, n_samples=100)
    first, second = train(config), train(config)
    np.testing.assert_array_equal(first.loss_history, second.loss_history)


def test_divergence_is_reported():
    with pytest.raises(TrainingDiverged):
        train(SoftplusNetConfig(epochs=5, n_samples=50, learning_rate=1e300))


@pytest.mark.parametrize(
    "field, value",
    [
        ("hidden", 0),
        ("hidden", 2.5),
        ("learning_rate", 0.0),
        ("learning_rate", float("nan")),
        ("epochs", 0),
        ("epochs", True),
        ("seed", -1),
        ("n_samples", 5),
        ("test_fraction", 1.0),
        ("test_fraction", 0.0001),
        ("label_noise", 1.0),
    ],
)
def test_config_validation_names_field_and_value(field, value):
    with pytest.raises(ConfigError) as raised:
        dataclasses.replace(SoftplusNetConfig(), **{field: value})
    message = str(raised.value)
    assert field in message and repr(value) in message and "must be" in message
    assert "\n" not in message


def test_default_config_matches_the_report():
    config = SoftplusNetConfig()
    assert (config.hidden, config.learning_rate, config.epochs) == (12, 0.1, 1000)


def test_circles_are_seeded_balanced_and_ring_shaped():
    x, labels = make_circles(2000, seed=11)
    again, _ = make_circles(2000, seed=11)
    np.testing.assert_array_equal(x, again)
    radius = np.linalg.norm(x, axis=1)
    np.testing.assert_array_equal(labels, np.searchsorted(ring_boundaries(), radius, side="right"))
    counts = np.bincount(labels, minlength=5)
    assert counts.min() > 300  # equal-area rings: about 400 each
    _, noisy = make_circles(2000, seed=11, label_noise=0.2)
    assert 0.15 < np.mean(noisy != labels) < 0.25


def test_circles_dataset_split():
    dataset = circles_dataset(200, 0.25, seed=1)
    assert dataset.x_train.shape == (150, 2) and dataset.x_test.shape == (50, 2)
    assert dataset.num_classes == 5
    with pytest.raises(ConfigError):
        circles_dataset(10, 0.01)
