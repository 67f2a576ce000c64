"""HParams: each run's settings as a session, and the experiment that says which
columns matter, so that runs compare in one table.

Without an experiment config TensorBoard counts every scalar as a metric (a layer-
statistics run gave 101 metric columns). tfnn declares its hyperparameters, with
domains, and a short list of metrics read from the epoch curves: the last
``epoch_accuracy``/``epoch_loss`` of the ``test``, ``train`` and ``validation`` sub-runs
and the seconds per epoch. TensorBoard uses one experiment config it finds under a log
root, whichever, so every tfnn run writes the same one, covering every experiment.

TensorBoard sorts the columns by name and shows the first five of each; parallel
coordinates leave out a session without a value in any shown column. So every tfnn
run has values for ``activation``, ``arch``, ``batch_size``, ``dropout``, ``epochs`` and
for the five metrics that sort first (test accuracy and loss, train accuracy and loss,
seconds per epoch): every run is drawn, coloured by test accuracy.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence

import keras
import tensorflow as tf
from tensorboard.plugins.hparams import api as hp

from tfnn.configs.validation import ACTIVATIONS, INITIALIZERS, OPTIMIZERS
from tfnn.tensorboard.scalars import TRAIN_RUN, epoch_tag
from tfnn.tensorboard.writers import RunWriters, WritingCallback

CONFIG_TEXT_TAG = "settings/config"
MODEL_TEXT_TAG = "settings/model"
EXPERIMENTS = ("digits", "moons", "mnist-dnn", "cnn", "cifar10", "softplus-net")

# Every hyperparameter a tfnn run logs, in the order the table shows them.
TFNN_HPARAMS: tuple[hp.HParam, ...] = (
    hp.HParam("experiment", hp.Discrete(EXPERIMENTS)),
    hp.HParam("hidden", hp.IntInterval(1, 4096)),
    hp.HParam("arch"),
    hp.HParam("activation", hp.Discrete((*ACTIVATIONS, "softplus"))),
    hp.HParam("optimizer", hp.Discrete(OPTIMIZERS)),
    hp.HParam("learning_rate", hp.RealInterval(1e-5, 10.0)),
    hp.HParam("batch_size", hp.IntInterval(1, 65536)),
    # Passes over the training set trained: a fraction for a --steps run.
    hp.HParam("epochs", hp.RealInterval(0.0, 100_000.0)),
    hp.HParam("steps", hp.IntInterval(1, 10_000_000)),
    hp.HParam("l2", hp.RealInterval(0.0, 10.0)),
    hp.HParam("dropout", hp.RealInterval(0.0, 0.95)),
    hp.HParam("init", hp.Discrete(INITIALIZERS)),
    hp.HParam("init_std", hp.RealInterval(0.0, 10.0)),
    hp.HParam("init_bias", hp.RealInterval(-10.0, 10.0)),
    hp.HParam("split", hp.Discrete(("stratified", "assignment"))),
    hp.HParam("loss_reduction", hp.Discrete(("mean", "sum"))),
    hp.HParam("train_samples", hp.IntInterval(1, 1_000_000)),
    hp.HParam("validation_samples", hp.IntInterval(0, 1_000_000)),
    hp.HParam("samples", hp.IntInterval(2, 1_000_000)),
    hp.HParam("noise", hp.RealInterval(0.0, 10.0)),
    hp.HParam("seed", hp.IntInterval(0, 2**31 - 1)),
)


def epoch_metric(run: str, metric: str) -> hp.Metric:
    """The last value of ``epoch_<metric>`` in the session's ``run`` sub-run."""
    return hp.Metric(epoch_tag(metric), group=run, display_name=f"{run} {metric}")


def metrics_for(runs: Sequence[str], names: Sequence[str] = ("accuracy", "loss")) -> list:
    """Accuracy and loss of each sub-run of ``runs``, in that order (the first one
    colours the parallel coordinates)."""
    return [epoch_metric(run, name) for run in runs for name in names]


# What a `tfnn train` run is judged by: its test numbers first (TensorBoard sorts by
# group and tag; the first one colours the parallel coordinates).
TFNN_METRICS = (
    *metrics_for(("test", TRAIN_RUN)),
    hp.Metric(epoch_tag("seconds"), group=TRAIN_RUN, display_name="seconds per epoch"),
    *metrics_for(("validation",)),
)
TFNN_HPARAM_NAMES = frozenset(param.name for param in TFNN_HPARAMS)


def hparam_value(value):
    """HParams accepts bool, int, float and str only; tuples become '150,120'."""
    if isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (tuple, list)):
        return ",".join(str(item) for item in value)
    return str(value)


def settings_markdown(values: Mapping) -> str:
    """A two-column Markdown table of ``values`` (TensorBoard's Text tab renders it)."""
    rows = [
        f"| {name} | {json.dumps(value) if not isinstance(value, str) else value} |"
        for name, value in values.items()
    ]
    return "\n".join(["| setting | value |", "| --- | --- |", *rows])


def model_summary(model: keras.Model) -> str:
    """``model.summary()`` as plain text (made once per structure: a search writes one
    per trial, and Keras takes ~10 ms to lay one out)."""
    key = summary_key(model)
    if key is not None and key in _SUMMARIES:
        return _SUMMARIES[key]
    lines: list[str] = []
    model.summary(print_fn=lambda line, **_: lines.append(line))
    text = "\n".join(lines)
    if key is not None:
        if len(_SUMMARIES) >= 512:
            _SUMMARIES.clear()
        _SUMMARIES[key] = text
    return text


_SUMMARIES: dict[tuple, str] = {}


def summary_key(model: keras.Model) -> tuple | None:
    """What ``model.summary()`` prints, as a key: the model's name and class, each
    layer's name, class, output shape, weights and inputs, the optimizer's variables; None
    where a layer has no single output (the summary is then made afresh)."""
    try:
        layers = tuple(
            (
                layer.name,
                type(layer).__qualname__,
                str(layer.output.shape),
                tuple((w.path, tuple(w.shape), w.trainable) for w in layer.weights),
                # The "Connected to" column of a branching model.
                tuple(
                    tuple(parent.operation.name for parent in node.parent_nodes)
                    for node in layer._inbound_nodes
                ),
            )
            for layer in model.layers
        )
    except (AttributeError, ValueError):
        return None
    optimizer = getattr(model, "optimizer", None)
    built = bool(getattr(optimizer, "built", False))
    variables = tuple(tuple(v.shape) for v in optimizer.variables) if built else ()
    return (model.name, type(model).__qualname__, layers, built, variables)


class HParams(WritingCallback, keras.callbacks.Callback):
    """When training starts (not when a run resumes): the run's HParams session, the
    experiment config that declares which hyperparameters and metrics the table
    shows, and the settings and the model's summary in the Text tab.

    Args:
        log_dir: The run's log directory (the session lives in its root).
        values: Hyperparameter values (bool, int, float, str; tuples become text).
        hparams: The declared hyperparameters (default: one per key of ``values``,
            without a domain).
        metrics: The declared metrics (default: accuracy and loss of the
            ``validation`` and ``train`` sub-runs).
        trial_id: The session's name in the table (default: the log directory's name).
        settings: Everything to show in the Text tab (default: ``values``).
    """

    def __init__(
        self,
        log_dir: str | os.PathLike | RunWriters,
        values: Mapping,
        hparams: Sequence[hp.HParam] | None = None,
        metrics: Sequence[hp.Metric] | None = None,
        trial_id: str | None = None,
        settings: Mapping | None = None,
    ):
        super().__init__()
        self.writers = RunWriters.of(log_dir)
        self.values = {name: hparam_value(value) for name, value in values.items()}
        self.hparams = list(hparams) if hparams is not None else [hp.HParam(n) for n in values]
        self.metrics = (
            list(metrics) if metrics is not None else metrics_for(("validation", TRAIN_RUN))
        )
        self.trial_id = trial_id or self.writers.log_dir.name
        self.settings = dict(settings if settings is not None else values)
        self._started = False

    def on_train_begin(self, logs=None):
        super().on_train_begin(logs)
        self._started = False

    def on_epoch_begin(self, epoch, logs=None):
        if self._started:
            return
        self._started = True
        if epoch > 0:
            return  # resumed: the interrupted run wrote them
        write_session(self.writers, self.values, self.hparams, self.metrics, self.trial_id)
        with self.writers[""].as_default(step=0):
            tf.summary.text(CONFIG_TEXT_TAG, settings_markdown(self.settings))
            tf.summary.text(MODEL_TEXT_TAG, "```\n" + model_summary(self.model) + "\n```")
        self.writers.flush()


def write_session(
    writers: RunWriters,
    values: Mapping,
    hparams: Sequence[hp.HParam],
    metrics: Sequence[hp.Metric],
    trial_id: str,
) -> None:
    """The experiment config and this session, in the root of ``writers``' log dir."""
    declared = {param.name for param in hparams}
    # A value without a declaration would be dropped from the table: declare it, bare.
    hparams = [*hparams, *(hp.HParam(name) for name in values if name not in declared)]
    with writers[""].as_default(step=0):
        hp.hparams_config(hparams=hparams, metrics=list(metrics))
        hp.hparams({name: hparam_value(value) for name, value in values.items()}, trial_id=trial_id)
    writers.flush()


def write_config(writers: RunWriters, config: dict, run_name: str) -> None:
    """The settings as a Markdown table and an HParams session (for runs outside
    ``tfnn train``'s callbacks, e.g. the softplus net): the values tfnn declares go to
    the session, every setting to the table."""
    values = {name: value for name, value in config.items() if name in TFNN_HPARAM_NAMES}
    write_session(writers, values, TFNN_HPARAMS, TFNN_METRICS, run_name)
    with writers[""].as_default(step=0):
        tf.summary.text(CONFIG_TEXT_TAG, settings_markdown(config))
    writers.flush()


def write_final_metrics(writers: RunWriters, metrics: dict[str, float], step: int) -> None:
    """Final numbers as ``epoch_*`` points of their sub-runs: ``test_accuracy`` becomes
    ``test/epoch_accuracy`` at ``step``, where the HParams metrics read it."""
    for name, value in metrics.items():
        run, _, metric = name.partition("_")
        with writers[run].as_default(step=step):
            tf.summary.scalar(epoch_tag(metric), float(value))
    writers.flush()
