"""keras-tuner HyperModels: read ``hp``, make the training command's config, delegate.

``build(hp)`` turns the sampled values into the same config class `tfnn train`
uses and calls the same builder (``build_digits_model`` / ``build_dense``) and
``compile_model``, so a tuned configuration is exactly a `tfnn train` run.
``fit(hp, model)`` tunes the batch size and the number of epochs and trains the
way `tfnn train` does: through the same fit path (``fit_model``: the same seeded
stream of batches) and the same steps per compiled call.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence

import keras
import keras_tuner
import numpy as np

from tfnn.configs.common import TrainConfig
from tfnn.configs.digits import DigitsConfig
from tfnn.configs.mnist import MnistDnnConfig
from tfnn.configs.tune import TuneConfig
from tfnn.configs.validation import OPTIMIZERS
from tfnn.experiments.digits import build_digits_model
from tfnn.experiments.mnist import build_dense
from tfnn.training.callbacks import StopOnInterrupt
from tfnn.training.compile import compile_model
from tfnn.training.fit import TrainingData, fit_model
from tfnn.training.plan import StepPlan
from tfnn.training.seeding import seed_model_builder
from tfnn.tuning.splits import SearchData

ACTIVATIONS = ("sigmoid", "relu", "tanh")
# Validation passes per trial (evenly spaced, always including the last epoch, which
# scores the trial). A pass costs as much as a short epoch of training, so validating
# after every epoch made it up to ~40% of a trial; ten points still draw the curve.
VALIDATION_POINTS = 10


def capped_choices(choices: Sequence[int], cap: int) -> tuple[int, ...]:
    """``choices`` up to ``cap`` (0: no cap); just ``(cap,)`` when all are larger."""
    if cap <= 0:
        return tuple(choices)
    return tuple(choice for choice in choices if choice <= cap) or (cap,)


def validation_epochs(epochs: int, points: int = VALIDATION_POINTS) -> list[int]:
    """The (1-based) epochs after which a trial validates: ``points`` evenly spaced
    ones ending with the last, or every epoch when there are no more than ``points``."""
    return sorted({math.ceil(epochs * index / points) for index in range(1, points + 1)})


def steps_per_pass(samples: int, batch_size: int) -> int:
    """Training steps in one pass over ``samples`` (the last batch may be short)."""
    return math.ceil(samples / batch_size)


def l2_strength(hp: keras_tuner.HyperParameters, minimum: float, maximum: float) -> float:
    """L2 strength: off, or log-uniform in [minimum, maximum] (a log scale cannot hold 0)."""
    use_l2 = hp.Boolean("use_l2")
    # Registered in both branches so the space is complete from the first trial;
    # HParams and the reports show `l2` only for trials that use it.
    with hp.conditional_scope("use_l2", [True]):
        strength = hp.Float("l2", minimum, maximum, sampling="log")
    return strength if use_l2 else 0.0


class ConfigHyperModel(keras_tuner.HyperModel):
    """Shared part: hp → training config → the training command's builder and compile.

    Subclasses declare their space in :meth:`config_from_hp` and name their
    builder in :meth:`build_model`.

    Args:
        data: The search's data, loaded once.
        tune_config: The search settings (seed, epochs cap, split ...).
    """

    batch_sizes: tuple[int, ...] = (16, 32, 64, 128, 256)
    # The config's hyperparameters (`tfnn train`'s HParams names) the space varies.
    searched: tuple[str, ...] = ("batch_size", "epochs")
    epochs_choices: tuple[int, ...] = (10, 20, 40, 80)

    def __init__(self, data: SearchData, tune_config: TuneConfig):
        super().__init__(name=tune_config.experiment)
        self.data = data
        self.tune_config = tune_config
        self.epochs_space = capped_choices(self.epochs_choices, tune_config.max_epochs)
        # What the last fit measured, for the tuner's per-trial line and fit.json.
        self.last_fit_seconds = 0.0
        self.last_metrics: dict[str, float] = {}

    def training_hyperparameters(self, hp: keras_tuner.HyperParameters) -> dict:
        """The batch size and epochs, as config fields."""
        return {
            "batch_size": hp.Choice("batch_size", self.batch_sizes),
            "epochs": hp.Choice("epochs", self.epochs_space),
        }

    def config_from_hp(self, hp: keras_tuner.HyperParameters) -> TrainConfig:
        """The `tfnn train` config of these hyperparameter values."""
        raise NotImplementedError

    def build_model(self, config: TrainConfig) -> keras.Model:
        """The training command's (uncompiled) model for ``config``."""
        raise NotImplementedError

    def declare_hyperparameters(self, hp: keras_tuner.HyperParameters) -> None:
        # fit() reads the batch size and epochs; declaring them here puts them in the
        # space before trial 0, so the first trial samples them too.
        self.training_hyperparameters(hp)

    def build(self, hp: keras_tuner.HyperParameters) -> keras.Model:
        return self.build_for(hp, len(self.data.x_fit))

    def build_for(self, hp: keras_tuner.HyperParameters, train_samples: int) -> keras.Model:
        """The compiled model, with as many steps per compiled call as `tfnn train`
        uses for ``train_samples`` training samples."""
        config = self.config_from_hp(hp)
        # Every trial starts from the same seed, so trials differ only by their values.
        seed_model_builder(config.seed)
        steps = steps_per_pass(train_samples, config.batch_size)
        return compile_model(self.build_model(config), config, steps)

    def fit(self, hp, model, *args, callbacks=(), verbose=0, **kwargs):
        """Trains on the fit part, validates on the held-out part.

        Returns:
            The last epoch's metrics (``loss``, ``accuracy``, ``val_loss``,
            ``val_accuracy``): the retrained model trains for exactly these epochs.

        Raises:
            keras_tuner.errors.FailedTrialError: The loss became NaN/Inf; the
                tuner records the trial as failed and goes on.
        """
        del args, kwargs, verbose  # the data lives in self.data; trials print one line
        config = self.config_from_hp(hp)
        data = self.data
        history, self.last_fit_seconds = self.train(
            model, config, data.x_fit, data.y_fit, (data.x_validation, data.y_validation), callbacks
        )
        self.last_metrics = {name: float(values[-1]) for name, values in history.history.items()}
        loss = self.last_metrics.get("loss", math.nan)
        if not math.isfinite(loss):
            raise keras_tuner.errors.FailedTrialError(
                f"the loss became {loss} in epoch {len(history.history['loss'])} "
                f"(learning rate {config.learning_rate:g}, {config.optimizer})"
            )
        return self.last_metrics

    def train(
        self,
        model: keras.Model,
        config: TrainConfig,
        x: np.ndarray,
        y: np.ndarray,
        validation: tuple[np.ndarray, np.ndarray] | None = None,
        callbacks: Sequence[keras.callbacks.Callback] = (),
    ) -> tuple[keras.callbacks.History, float]:
        """Trains through `tfnn train`'s fit path (:func:`tfnn.training.fit.fit_model`: the
        same seeded stream of batches) for the config's epochs.

        Args:
            validation: Held-out ``(x, y)`` scored at :func:`validation_epochs`, or None.

        Returns:
            (history, seconds spent fitting).
        """
        history = keras.callbacks.History()
        plan = StepPlan(config.epochs, steps_per_pass(len(x), config.batch_size), config.batch_size)
        data = TrainingData(
            x,
            y,
            config.seed,
            validation=validation,
            validation_epochs=validation_epochs(config.epochs),
        )
        started = time.perf_counter()
        fit_model(
            model,
            data,
            plan,
            [*callbacks, keras.callbacks.TerminateOnNaN(), StopOnInterrupt(), history],
        )
        return history, time.perf_counter() - started

    def retrain(
        self,
        hp: keras_tuner.HyperParameters,
        callbacks: Sequence[keras.callbacks.Callback] = (),
    ) -> tuple[keras.Model, keras.callbacks.History, float]:
        """Builds ``hp``'s model afresh and trains it on the whole training split,
        exactly as `tfnn train` with the same settings would (same stream, same steps
        per call)."""
        keras.backend.clear_session()
        dataset = self.data.dataset
        model = self.build_for(hp, len(dataset.x_train))
        history, seconds = self.train(
            model, self.config_from_hp(hp), dataset.x_train, dataset.y_train, None, callbacks
        )
        return model, history, seconds


class DigitsHyperModel(ConfigHyperModel):
    """The CS-587 space: hidden units, activation, optimizer, learning rate, L2."""

    searched = ("hidden", "activation", "optimizer", "learning_rate", "l2", "batch_size", "epochs")

    def config_from_hp(self, hp: keras_tuner.HyperParameters) -> DigitsConfig:
        return DigitsConfig(
            hidden=hp.Int("hidden", 4, 256, sampling="log"),
            activation=hp.Choice("activation", ACTIVATIONS),
            optimizer=hp.Choice("optimizer", OPTIMIZERS),
            learning_rate=hp.Float("learning_rate", 1e-3, 1.0, sampling="log"),
            l2=l2_strength(hp, 1e-6, 1e-1),
            split=self.tune_config.split,
            seed=self.tune_config.seed,
            **self.training_hyperparameters(hp),
        )

    def build_model(self, config: DigitsConfig) -> keras.Model:
        return build_digits_model(config, self.data.dataset)


class MnistDnnHyperModel(ConfigHyperModel):
    """Dense MNIST networks: 1-3 hidden layers, their widths, dropout and the optimizer."""

    batch_sizes = (32, 64, 128, 256)
    searched = (
        "arch", "activation", "dropout", "optimizer", "learning_rate", "l2", "batch_size",
        "epochs",
    )  # fmt: skip
    epochs_choices = (5, 10, 20, 40)
    max_layers = 3

    def config_from_hp(self, hp: keras_tuner.HyperParameters) -> MnistDnnConfig:
        layers = hp.Int("layers", 1, self.max_layers)
        widths = [hp.Int("units_1", 32, 1024, sampling="log")]
        for index in range(2, self.max_layers + 1):
            with hp.conditional_scope("layers", list(range(index, self.max_layers + 1))):
                width = hp.Int(f"units_{index}", 32, 1024, sampling="log")
            if layers >= index:
                widths.append(width)
        return MnistDnnConfig(
            arch=tuple(widths),
            activation=hp.Choice("activation", ACTIVATIONS),
            # Rounded: steps of 0.1 come back as 0.30000000000000004.
            dropout=round(hp.Float("dropout", 0.0, 0.5, step=0.1), 2),
            optimizer=hp.Choice("optimizer", OPTIMIZERS),
            learning_rate=hp.Float("learning_rate", 1e-4, 1e-1, sampling="log"),
            l2=l2_strength(hp, 1e-6, 1e-2),
            data=self.tune_config.data,
            train_samples=self.tune_config.train_samples,
            # The best configuration is retrained on the whole training split.
            validation_samples=0,
            seed=self.tune_config.seed,
            **self.training_hyperparameters(hp),
        )

    def build_model(self, config: MnistDnnConfig) -> keras.Model:
        return build_dense(config, self.data.dataset)


HYPERMODELS: dict[str, type[ConfigHyperModel]] = {
    "digits": DigitsHyperModel,
    "mnist-dnn": MnistDnnHyperModel,
}
