"""Per-layer statistics every N steps: weights, biases, their gradients, net inputs,
activations and pooled outputs.

Histograms plus min/max/mean/std (the COMP 576 assignment's list), the L2 norm of each
kernel and of each gradient. Gradients and activations come from one pass of a small
fixed probe batch (no re-run of the training batch): the gradient of the compiled loss
on the probe, and the outputs of a model that shares the trained layers.
"""

from __future__ import annotations

import os

import keras
import numpy as np
import tensorflow as tf

from tfnn.tensorboard.histograms import write_norm_statistics, write_tensor_statistics
from tfnn.tensorboard.scalars import TRAIN_RUN, global_step, step_after_batch
from tfnn.tensorboard.writers import RunWriters, WritingCallback

ACTIVATION_SUFFIX = "_act"
POOLING_TYPES = (
    keras.layers.MaxPooling1D,
    keras.layers.MaxPooling2D,
    keras.layers.MaxPooling3D,
    keras.layers.AveragePooling1D,
    keras.layers.AveragePooling2D,
    keras.layers.AveragePooling3D,
)
# The tag group of every statistic: it sorts after the loss, accuracy and learning-rate
# curves, which TensorBoard then shows first (it orders groups by name).
STATISTICS_GROUP = "statistics"
# Keras' variable names, as a person reads them.
VARIABLE_KINDS = {"kernel": "weights", "bias": "biases"}


def _is_linear(layer: keras.layers.Layer) -> bool:
    activation = getattr(layer, "activation", None)
    return activation is None or activation is keras.activations.linear


def monitored_outputs(model: keras.Model) -> list[tuple[str, keras.KerasTensor]]:
    """(tag, symbolic output) of each net input, activation and pooled output, for models
    whose layers expose their outputs (Functional and Sequential; none for subclassed).

    Layers with a kernel give ``<layer>/net_inputs`` (``/activations`` when the
    activation is fused into the layer); ``<layer>_act`` Activation layers give
    ``<layer>/activations``; pooling layers give ``<layer>/outputs``.
    """
    outputs = []
    for layer in model.layers:
        try:
            output = layer.output
        except (AttributeError, ValueError):  # never called, or called more than once
            continue
        if isinstance(layer, keras.layers.Activation):
            outputs.append((f"{layer.name.removesuffix(ACTIVATION_SUFFIX)}/activations", output))
        elif isinstance(layer, POOLING_TYPES):
            outputs.append((f"{layer.name}/outputs", output))
        elif getattr(layer, "kernel", None) is not None:
            kind = "net_inputs" if _is_linear(layer) else "activations"
            outputs.append((f"{layer.name}/{kind}", output))
    return outputs


def variable_tag(model: keras.Model, variable: keras.Variable) -> str:
    """``<layer>/weights`` for ``<layer>/kernel`` (``/biases`` for a bias; other
    variables keep their name), without the model's own name in front."""
    parts = variable.path.split("/")
    if len(parts) > 2 and parts[0] == model.name:
        parts = parts[1:]
    parts[-1] = VARIABLE_KINDS.get(parts[-1], parts[-1])
    return "/".join(parts)


def _probe_activations_model(model: keras.Model, outputs) -> keras.Model | None:
    if not outputs:
        return None
    try:
        return keras.Model(model.inputs, [output for _, output in outputs])
    except (AttributeError, ValueError, TypeError):
        return None


class LayerStatistics(WritingCallback, keras.callbacks.Callback):
    """Writes per-layer statistics at step 0 and whenever a multiple of N steps passes.

    Any compiled Keras model: weights and biases always; with a ``probe`` of labelled
    samples, the gradients of the compiled loss on it; with probe inputs and a model
    whose layers expose their outputs (Functional, Sequential), net inputs and
    activations too. Steps are the optimizer's iterations.

    Args:
        log_dir: The run's log directory (or its shared writers); statistics go to its
            ``train`` sub-run.
        probe: A small fixed batch of training samples, ``x`` or ``(x, y)`` (e.g. 256);
            None: weights and biases only.
        every_steps: N.
    """

    def __init__(
        self,
        log_dir: str | os.PathLike | RunWriters,
        probe: np.ndarray | tuple[np.ndarray, np.ndarray] | None = None,
        every_steps: int = 100,
    ):
        super().__init__()
        self.writers = RunWriters.of(log_dir)
        if isinstance(probe, (tuple, list)):
            self.probe_x, self.probe_y = (tf.constant(part) for part in probe)
        else:
            self.probe_x = None if probe is None else tf.constant(probe)
            self.probe_y = None
        self.every_steps = every_steps
        self._write = None
        self._last_logged: int | None = None

    def _build_writer_function(self):
        model = self.model
        writer = self.writers[TRAIN_RUN]
        variables = [
            (f"{STATISTICS_GROUP}/{variable_tag(model, v)}", v) for v in model.trainable_variables
        ]
        outputs = [
            (f"{STATISTICS_GROUP}/{tag}", output)
            for tag, output in (monitored_outputs(model) if self.probe_x is not None else [])
        ]
        activations_model = _probe_activations_model(model, outputs)
        with_gradients = self.probe_y is not None

        @tf.function
        def write(step):
            with writer.as_default():
                for tag, variable in variables:
                    write_tensor_statistics(tag, variable.value, step)
                    if tag.endswith("/weights"):
                        tf.summary.scalar(f"{tag}/norm", tf.norm(variable.value), step=step)
                if with_gradients:
                    with tf.GradientTape() as tape:
                        predicted = model(self.probe_x, training=False)
                        loss = model.compute_loss(
                            x=self.probe_x, y=self.probe_y, y_pred=predicted, training=True
                        )
                    gradients = tape.gradient(loss, [v for _, v in variables])
                    for (tag, _), gradient in zip(variables, gradients, strict=True):
                        if gradient is not None:
                            write_norm_statistics(f"{tag}_gradient", gradient, step)
                if activations_model is not None:
                    values = activations_model(self.probe_x, training=False)
                    if not isinstance(values, (list, tuple)):
                        values = [values]
                    for (tag, _), value in zip(outputs, values, strict=True):
                        write_tensor_statistics(tag, value, step)
            return step

        return write

    def write(self, step: int) -> None:
        """Writes every statistic for training step ``step``."""
        if self._write is None:
            self._write = self._build_writer_function()
        self._write(tf.constant(step, dtype=tf.int64))
        self._last_logged = step

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch_start = global_step(self.model)  # once an epoch, not once a batch
        if self._last_logged is None:
            # Here, not at train begin: a backup callback may restore the iterations later.
            self._last_logged = self._epoch_start
            if self._last_logged == 0:
                self.write(0)

    def on_train_batch_end(self, batch, logs=None):
        if self.every_steps <= 0:
            return
        step = step_after_batch(self._epoch_start, batch, self.params)
        if step // self.every_steps > self._last_logged // self.every_steps:
            self.write(step)

    def on_train_begin(self, logs=None):
        super().on_train_begin(logs)
        self._last_logged = None

    def on_epoch_end(self, epoch, logs=None):
        self.writers.flush()
