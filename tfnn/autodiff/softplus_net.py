"""The 2-12-5 network: softplus hidden layer, softmax output, hand-written backprop.

Row-vector convention: a batch X of shape (N, 2) gives z1 = X·W0 + b0, h = softplus(z1),
z2 = h·W1 + b1 and probabilities softmax(z2); the loss is the mean cross-entropy. The
report writes W0 as 12×2 (column vectors); the 2·12 + 12 + 12·5 + 5 = 101 parameters
are the same.
"""

from __future__ import annotations

import dataclasses
import math
import time
from typing import NamedTuple

import numpy as np
import tensorflow as tf

from tfnn.autodiff import functions
from tfnn.autodiff.checks import GradientCheck, compare
from tfnn.autodiff.circles import circles_dataset
from tfnn.data import Dataset
from tfnn.errors import ConfigError, TrainingDiverged

INPUTS = 2
OUTPUTS = 5


@dataclasses.dataclass(frozen=True)
class SoftplusNetConfig:
    """Settings of the 2-12-5 experiment (the report's: lr 0.1, 1000 full-batch epochs).

    Attributes:
        hidden: Softplus units in the hidden layer.
        learning_rate: Step of steepest gradient descent.
        epochs: Full-batch descent steps.
        seed: Seed of the data set and of the initial weights.
        n_samples: Points in the circles data set (train and test together).
        test_fraction: Share of the points held out for testing.
        label_noise: Probability that a label is switched to another class.
    """

    hidden: int = 12
    learning_rate: float = 0.1
    epochs: int = 1000
    seed: int = 0
    n_samples: int = 1000
    test_fraction: float = 0.2
    label_noise: float = 0.0

    def __post_init__(self) -> None:
        def require(valid: bool, field: str, allowed: str) -> None:
            if not valid:
                value = getattr(self, field)
                raise ConfigError(f"SoftplusNetConfig.{field} = {value!r}: must be {allowed}")

        def is_integer(value: object) -> bool:
            return isinstance(value, int) and not isinstance(value, bool)

        def is_real(value: object) -> bool:
            return isinstance(value, (int, float)) and not isinstance(value, bool)

        require(is_integer(self.hidden) and self.hidden >= 1, "hidden", "an integer >= 1")
        require(
            is_real(self.learning_rate)
            and math.isfinite(self.learning_rate)
            and self.learning_rate > 0,
            "learning_rate",
            "a finite number > 0",
        )
        require(is_integer(self.epochs) and self.epochs >= 1, "epochs", "an integer >= 1")
        require(is_integer(self.seed) and self.seed >= 0, "seed", "an integer >= 0")
        require(
            is_integer(self.n_samples) and self.n_samples >= 10, "n_samples", "an integer >= 10"
        )
        require(
            is_real(self.test_fraction)
            and 0 < self.test_fraction < 1
            and 1 <= round(self.n_samples * self.test_fraction) < self.n_samples,
            "test_fraction",
            f"in (0, 1), leaving at least one training and one test sample of {self.n_samples}",
        )
        require(
            is_real(self.label_noise) and 0 <= self.label_noise < 1,
            "label_noise",
            "a number in [0, 1)",
        )


class Parameters(NamedTuple):
    """The learnable parameters (or gradients of the same shapes)."""

    hidden_weights: tf.Tensor  # W0, (2, hidden)
    hidden_bias: tf.Tensor  # b0, (hidden,)
    output_weights: tf.Tensor  # W1, (hidden, 5)
    output_bias: tf.Tensor  # b1, (5,)


class ForwardPass(NamedTuple):
    """The intermediate values the backward pass reuses."""

    hidden_input: tf.Tensor  # z1
    hidden: tf.Tensor  # h = softplus(z1)
    logits: tf.Tensor  # z2
    probabilities: tf.Tensor  # softmax(z2)


def initial_parameters(hidden: int = 12, seed: int = 0) -> Parameters:
    """Normal weights with variance 1/fan-in and zero biases, float64."""
    # A stream of its own, so changing the data set does not change the weights.
    random = np.random.default_rng([seed, 1])
    return Parameters(
        tf.constant(random.normal(size=(INPUTS, hidden)) / math.sqrt(INPUTS)),
        tf.zeros([hidden], tf.float64),
        tf.constant(random.normal(size=(hidden, OUTPUTS)) / math.sqrt(hidden)),
        tf.zeros([OUTPUTS], tf.float64),
    )


def parameter_count(parameters: Parameters) -> int:
    """Number of learnable scalars (101 for the 2-12-5 network)."""
    return sum(int(np.prod(parameter.shape)) for parameter in parameters)


def forward(parameters: Parameters, x: tf.Tensor) -> ForwardPass:
    """Runs the network on a batch ``x`` of shape (N, 2)."""
    hidden_input = tf.matmul(x, parameters.hidden_weights) + parameters.hidden_bias
    hidden = functions.softplus(hidden_input)
    logits = tf.matmul(hidden, parameters.output_weights) + parameters.output_bias
    # Shifting by the row maximum keeps exp from overflowing; softmax is shift-invariant.
    exponentials = tf.exp(logits - tf.reduce_max(logits, axis=1, keepdims=True))
    probabilities = exponentials / tf.reduce_sum(exponentials, axis=1, keepdims=True)
    return ForwardPass(hidden_input, hidden, logits, probabilities)


def cross_entropy(logits: tf.Tensor, one_hot: tf.Tensor) -> tf.Tensor:
    """Mean over the batch of -Σ_k y_k log softmax(z)_k, from the logits for stability."""
    log_normaliser = tf.reduce_logsumexp(logits, axis=1)
    return tf.reduce_mean(log_normaliser - tf.reduce_sum(one_hot * logits, axis=1))


def loss(parameters: Parameters, x: tf.Tensor, one_hot: tf.Tensor) -> tf.Tensor:
    """Mean cross-entropy of the network on ``(x, one_hot)``."""
    return cross_entropy(forward(parameters, x).logits, one_hot)


def hand_gradients(
    parameters: Parameters, x: tf.Tensor, one_hot: tf.Tensor
) -> tuple[tf.Tensor, Parameters]:
    """Loss and its gradient by the δ recursion, without a tape.

    δ_out = (softmax(z2) - Y)/N, ∂W1 = hᵀ·δ_out, ∂b1 = Σ_n δ_out,
    δ_h = δ_out·W1ᵀ ⊙ σ(z1) (softplus' = σ), ∂W0 = Xᵀ·δ_h, ∂b0 = Σ_n δ_h.
    """
    values = forward(parameters, x)
    batch_size = tf.cast(tf.shape(x)[0], x.dtype)
    output_delta = (values.probabilities - one_hot) / batch_size
    hidden_delta = tf.matmul(
        output_delta, parameters.output_weights, transpose_b=True
    ) * functions.softplus_gradient(values.hidden_input)
    gradients = Parameters(
        hidden_weights=tf.matmul(x, hidden_delta, transpose_a=True),
        hidden_bias=tf.reduce_sum(hidden_delta, axis=0),
        output_weights=tf.matmul(values.hidden, output_delta, transpose_a=True),
        output_bias=tf.reduce_sum(output_delta, axis=0),
    )
    return cross_entropy(values.logits, one_hot), gradients


def gradient_check(
    parameters: Parameters, x: np.ndarray, labels: np.ndarray
) -> list[GradientCheck]:
    """Hand gradients vs the tape vs central differences on every parameter."""
    x = tf.constant(x, tf.float64)
    one_hot = tf.one_hot(labels, OUTPUTS, dtype=tf.float64)
    _, hand = hand_gradients(parameters, x, one_hot)
    return compare(
        "2-12-5 cross-entropy",
        lambda *arrays: loss(Parameters(*arrays), x, one_hot),
        [parameter.numpy() for parameter in parameters],
        hand,
        ["W0", "b0", "W1", "b1"],
        point=f"N={x.shape[0]}",
    )


@tf.function
def _descent_step(
    variables: list[tf.Variable], x: tf.Tensor, one_hot: tf.Tensor, learning_rate: tf.Tensor
) -> tf.Tensor:
    current_loss, gradients = hand_gradients(Parameters(*variables), x, one_hot)
    for variable, gradient in zip(variables, gradients, strict=True):
        variable.assign_sub(learning_rate * gradient)
    return current_loss


@dataclasses.dataclass(frozen=True, eq=False)
class SoftplusNetResult:
    """What a training run produced.

    Attributes:
        config: The settings of the run.
        dataset: The circles data set it was trained and tested on.
        parameters: Trained parameters, float64 numpy arrays.
        loss_history: Training cross-entropy before each descent step, shape (epochs,).
        train_cross_entropy: Training cross-entropy after the last step.
        train_accuracy: Share of training points classified right.
        test_accuracy: Share of test points classified right.
        test_cross_entropy: Mean cross-entropy on the test set.
        confusion_matrix: Test counts, rows the true class and columns the predicted one.
        training_seconds: Wall time of the descent loop.
    """

    config: SoftplusNetConfig
    dataset: Dataset
    parameters: Parameters
    loss_history: np.ndarray
    train_cross_entropy: float
    train_accuracy: float
    test_accuracy: float
    test_cross_entropy: float
    confusion_matrix: np.ndarray
    training_seconds: float

    def predict_probabilities(self, x: np.ndarray) -> np.ndarray:
        """Class probabilities of shape (N, 5) for points ``x`` of shape (N, 2)."""
        parameters = Parameters(*(tf.constant(array) for array in self.parameters))
        return forward(parameters, tf.constant(x, tf.float64)).probabilities.numpy()

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Predicted classes of points ``x`` of shape (N, 2), e.g. a decision-boundary grid."""
        return np.argmax(self.predict_probabilities(x), axis=1)


def train(
    config: SoftplusNetConfig | None = None, dataset: Dataset | None = None
) -> SoftplusNetResult:
    """Trains the network by full-batch steepest descent with the hand gradients.

    Args:
        config: Settings; the defaults reproduce the report's run.
        dataset: Data to use instead of the circles data set the config describes.

    Raises:
        TrainingDiverged: The loss became NaN or infinite.
    """
    config = config or SoftplusNetConfig()
    if dataset is None:
        dataset = circles_dataset(
            config.n_samples,
            config.test_fraction,
            num_classes=OUTPUTS,
            label_noise=config.label_noise,
            seed=config.seed,
        )
    x_train = tf.constant(dataset.x_train, tf.float64)
    one_hot_train = tf.one_hot(dataset.y_train, OUTPUTS, dtype=tf.float64)
    variables = [
        tf.Variable(parameter) for parameter in initial_parameters(config.hidden, config.seed)
    ]
    learning_rate = tf.constant(config.learning_rate, tf.float64)
    losses = []
    start = time.perf_counter()
    for epoch in range(config.epochs):
        losses.append(float(_descent_step(variables, x_train, one_hot_train, learning_rate)))
        if not math.isfinite(losses[-1]):
            raise TrainingDiverged(
                f"2-12-5 loss became {losses[-1]} at epoch {epoch} "
                f"(learning_rate = {config.learning_rate}); try a smaller learning rate"
            )
    training_seconds = time.perf_counter() - start

    trained = Parameters(*(tf.constant(variable.numpy()) for variable in variables))
    x_test = tf.constant(dataset.x_test, tf.float64)
    one_hot_test = tf.one_hot(dataset.y_test, OUTPUTS, dtype=tf.float64)
    train_logits = forward(trained, x_train).logits
    test_logits = forward(trained, x_test).logits
    test_predictions = np.argmax(test_logits.numpy(), axis=1)
    return SoftplusNetResult(
        config=config,
        dataset=dataset,
        parameters=Parameters(*(parameter.numpy() for parameter in trained)),
        loss_history=np.array(losses),
        train_cross_entropy=float(cross_entropy(train_logits, one_hot_train)),
        train_accuracy=float(np.mean(np.argmax(train_logits.numpy(), 1) == dataset.y_train)),
        test_accuracy=float(np.mean(test_predictions == dataset.y_test)),
        test_cross_entropy=float(cross_entropy(test_logits, one_hot_test)),
        confusion_matrix=tf.math.confusion_matrix(
            dataset.y_test, test_predictions, num_classes=OUTPUTS
        ).numpy(),
        training_seconds=training_seconds,
    )
