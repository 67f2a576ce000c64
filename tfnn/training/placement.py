"""The ``tf.distribute`` strategy and precision policy a training config asks for."""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Callable, Iterator

import keras
import tensorflow as tf

from tfnn.configs.common import TrainConfig
from tfnn.distribute.cluster import read_tf_config
from tfnn.training.compile import compile_model

MIXED_POLICY = "mixed_float16"


def make_strategy(config: TrainConfig) -> tf.distribute.Strategy:
    """``default``: TensorFlow's default (one device); ``mirrored``: ``MirroredStrategy``
    over all local GPUs, or the CPU without them; ``multiworker``:
    ``MultiWorkerMirroredStrategy`` over the processes in ``TF_CONFIG``.

    Call it before any other TensorFlow op: collective ops are configured when
    TensorFlow's runtime starts.

    Raises:
        ConfigError: ``multiworker`` without a usable ``TF_CONFIG``.
    """
    if config.strategy == "mirrored":
        return tf.distribute.MirroredStrategy()
    if config.strategy == "multiworker":
        read_tf_config()  # one line and exit code 2 instead of TensorFlow's error
        return tf.distribute.MultiWorkerMirroredStrategy()
    return tf.distribute.get_strategy()


def fit_settings(config: TrainConfig, strategy: tf.distribute.Strategy) -> TrainConfig:
    """The config to compile with: one step per call for ``mirrored`` over several
    devices, where Keras 3 fails running several (keras-team/keras#19246: "You must
    feed a value for placeholder tensor", measured with 2 logical CPUs)."""
    if config.strategy == "mirrored" and strategy.num_replicas_in_sync > 1:
        return dataclasses.replace(config, steps_per_execution=1)
    return config


def is_multiworker(strategy: tf.distribute.Strategy) -> bool:
    return isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy)


def is_chief(strategy: tf.distribute.Strategy) -> bool:
    """True for the process that writes logs, checkpoints and results."""
    return not is_multiworker(strategy) or read_tf_config().is_chief


def describe(strategy: tf.distribute.Strategy, config: TrainConfig) -> str:
    """One line: strategy, replicas and the global batch size."""
    replicas = strategy.num_replicas_in_sync
    where = "worker processes" if is_multiworker(strategy) else "local devices"
    devices = getattr(strategy.extended, "worker_devices", ())
    return (
        f"strategy {config.strategy}: {replicas} replica(s) on {where} "
        f"({', '.join(device.split('/')[-1] for device in devices) or 'default'}); "
        f"global batch {config.batch_size * replicas} = {config.batch_size} per replica "
        f"x {replicas}"
    )


def cpu_note(config: TrainConfig) -> str | None:
    """A one-line note when GPU-only speed-ups are asked for on a machine without GPUs.

    ``--jit-compile`` counts only where the experiment leaves it off by default:
    the dense MNIST nets turn it on because XLA is faster for them on CPUs too.
    """
    if tf.config.list_physical_devices("GPU"):
        return None
    default_jit = {field.name: field.default for field in dataclasses.fields(config)}
    asked = []
    if config.mixed_precision:
        asked.append("--mixed-precision")
    if config.jit_compile and not default_jit["jit_compile"]:
        asked.append("--jit-compile")
    if not asked:
        return None
    return (
        f"note: {' and '.join(asked)}: meant for GPUs, no help on this CPU-only machine "
        "(float16 math is emulated; XLA was measured slower for the CNN here); "
        "training goes on with them"
    )


@contextlib.contextmanager
def precision_policy(config: TrainConfig) -> Iterator[None]:
    """Builds layers with ``mixed_float16`` inside when ``--mixed-precision`` is on.

    The builders keep the softmax in float32; Keras' ``compile`` wraps the
    optimizer in a ``LossScaleOptimizer`` for such a model. The global policy
    is restored afterwards, so later models in the process are unaffected.
    """
    if not config.mixed_precision:
        yield
        return
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(MIXED_POLICY)
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous)


def print_setup(strategy: tf.distribute.Strategy, config: TrainConfig, print_fn: Callable) -> None:
    """Prints the strategy line (not for the default strategy) and the CPU note."""
    if config.strategy != "default":
        print_fn(describe(strategy, config), flush=True)
    note = cpu_note(config)
    if note:
        print_fn(note, flush=True)


@dataclasses.dataclass(frozen=True)
class Placement:
    """Where a run trains: its ``tf.distribute`` strategy and this process's part in it.

    Attributes:
        strategy: The strategy the model is built and compiled in.
        config: The run's config (strategy name, precision, batch per replica).
    """

    strategy: tf.distribute.Strategy
    config: TrainConfig

    @classmethod
    def for_config(cls, config: TrainConfig) -> Placement:
        """The placement ``config.strategy`` asks for (call before any other op)."""
        return cls(make_strategy(config), config)

    @property
    def multiworker(self) -> bool:
        return is_multiworker(self.strategy)

    @property
    def chief(self) -> bool:
        """Whether this process writes logs, checkpoints and results."""
        return is_chief(self.strategy)

    @property
    def replicas(self) -> int:
        return self.strategy.num_replicas_in_sync

    @property
    def global_batch_size(self) -> int:
        """Samples per step: the config's batch size on every replica."""
        return self.config.batch_size * self.replicas

    def compile(self, build_model: Callable[[], keras.Model], steps_per_epoch: int) -> keras.Model:
        """``build_model()`` built and compiled in the strategy's scope and precision."""
        with self.strategy.scope(), precision_policy(self.config):
            model = build_model()
            return compile_model(model, fit_settings(self.config, self.strategy), steps_per_epoch)

    def local_model(
        self, build_model: Callable[[], keras.Model], steps_per_epoch: int
    ) -> Callable[[], keras.Model]:
        """A factory of plain (undistributed) copies, for the chief's callbacks."""

        def make() -> keras.Model:
            with precision_policy(self.config):
                return compile_model(build_model(), self.config, steps_per_epoch)

        return make
