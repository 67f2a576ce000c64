"""Statistics of every layer every N steps: weights, biases, net inputs, activations, pools.

Activations come from one forward pass of a small fixed probe batch through a
model that shares the trained layers (no copy, no re-run of the training
batch), so the cost is one small inference every N steps.
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf
from tensorboard.plugins.histogram import metadata as histogram_metadata

from tfnn.tensorboard.scalars import StepCounter

ACTIVATION_SUFFIX = "_act"
POOLING_TYPES = (
    keras.layers.MaxPooling1D,
    keras.layers.MaxPooling2D,
    keras.layers.AveragePooling1D,
    keras.layers.AveragePooling2D,
)


def _is_linear(layer: keras.layers.Layer) -> bool:
    activation = getattr(layer, "activation", None)
    return activation is None or activation is keras.activations.linear


def monitored_outputs(model: keras.Model) -> list[tuple[str, keras.KerasTensor]]:
    """(tag, symbolic output) for each net input, activation and pooled output.

    Layers with a kernel give ``<layer>/net_inputs`` (or ``/activations`` when the
    activation is fused into the layer); ``<layer>_act`` Activation layers give
    ``<layer>/activations``; pooling layers give ``<layer>/outputs``.
    """
    outputs = []
    for layer in model.layers:
        if isinstance(layer, keras.layers.Activation):
            base = layer.name.removesuffix(ACTIVATION_SUFFIX)
            outputs.append((f"{base}/activations", layer.output))
        elif isinstance(layer, POOLING_TYPES):
            outputs.append((f"{layer.name}/outputs", layer.output))
        elif hasattr(layer, "kernel"):
            kind = "net_inputs" if _is_linear(layer) else "activations"
            outputs.append((f"{layer.name}/{kind}", layer.output))
    return outputs


def monitored_variables(model: keras.Model) -> list[tuple[str, keras.Variable]]:
    """(tag, variable) for each layer's kernel and bias."""
    variables = []
    for layer in model.layers:
        if getattr(layer, "kernel", None) is not None:
            variables.append((f"{layer.name}/weights", layer.kernel))
        if getattr(layer, "bias", None) is not None:
            variables.append((f"{layer.name}/biases", layer.bias))
    return variables


# TensorBoard's default bucket count (tf.summary.histogram's).
HISTOGRAM_BUCKETS = 30
# A histogram sees an evenly strided sample of larger tensors (a conv layer's activations
# on 256 probe images are 6.4M values: ~25 ms to bucket them all); min/max/mean/std see
# every value.
HISTOGRAM_SAMPLE = 1 << 20
_HISTOGRAM_METADATA = histogram_metadata.create_summary_metadata(
    display_name=None, description=None
)


def histogram_buckets(values: tf.Tensor, bucket_count: int = HISTOGRAM_BUCKETS) -> tf.Tensor:
    """``[bucket_count, 3]`` rows ``[left edge, right edge, count]`` of flat ``values``: the
    buckets ``tf.summary.histogram`` writes, counted in one pass.

    ``tf.summary.histogram`` one-hot encodes every value into its bucket (30 floats per
    value): ~8 ms for one kernel of the MNIST dense net, gigabytes on a conv layer's
    activations.
    """
    values = tf.cast(values, tf.float64)
    low, high = tf.reduce_min(values), tf.reduce_max(values)

    def spread():
        counts = tf.histogram_fixed_width(values, tf.stack([low, high]), nbins=bucket_count)
        edges = tf.concat([tf.linspace(low, high, bucket_count + 1)[:-1], [high]], 0)
        return tf.stack([edges[:-1], edges[1:], tf.cast(counts, tf.float64)], axis=1)

    def single_value():
        # As TensorBoard's: every edge at the value, every count in the last bucket.
        size = tf.cast(tf.size(values), tf.float64)
        counts = tf.one_hot(bucket_count - 1, bucket_count, on_value=size, dtype=tf.float64)
        edges = tf.fill([bucket_count], high)
        return tf.stack([edges, edges, counts], axis=1)

    return tf.cond(high > low, spread, single_value)


def write_tensor_statistics(tag: str, values: tf.Tensor, step) -> None:
    """Histogram ``tag`` plus scalars ``tag/min``, ``/max``, ``/mean``, ``/std``."""
    values = tf.cast(tf.reshape(values, [-1]), tf.float32)
    stride = max(1, values.shape[0] // HISTOGRAM_SAMPLE)
    tf.summary.write(
        tag, histogram_buckets(values[::stride]), step=step, metadata=_HISTOGRAM_METADATA
    )
    tf.summary.scalar(f"{tag}/min", tf.reduce_min(values), step=step)
    tf.summary.scalar(f"{tag}/max", tf.reduce_max(values), step=step)
    tf.summary.scalar(f"{tag}/mean", tf.reduce_mean(values), step=step)
    tf.summary.scalar(f"{tag}/std", tf.math.reduce_std(values), step=step)


class LayerStatistics(keras.callbacks.Callback):
    """Writes per-layer statistics at step 0 and whenever a multiple of N steps passes.

    Args:
        writer: Summary writer (the run's ``train`` sub-run).
        probe_inputs: A small fixed batch of training inputs (e.g. 256 samples).
        every_steps: N.
        steps_per_epoch: Training steps in one epoch.
        initial_epoch: Epoch training starts from (non-zero when resuming).
    """

    def __init__(
        self,
        writer: tf.summary.SummaryWriter,
        probe_inputs: np.ndarray,
        every_steps: int,
        steps_per_epoch: int,
        initial_epoch: int = 0,
    ):
        super().__init__()
        self.writer = writer
        self.probe_inputs = tf.constant(probe_inputs)
        self.counter = StepCounter(every_steps, steps_per_epoch, initial_epoch)
        self._write = None

    def _build_writer_function(self):
        tagged_outputs = monitored_outputs(self.model)
        tagged_variables = monitored_variables(self.model)
        probe_model = keras.Model(self.model.inputs, [output for _, output in tagged_outputs])

        @tf.function
        def write(step):
            activations = probe_model(self.probe_inputs, training=False)
            if not isinstance(activations, (list, tuple)):
                activations = [activations]
            with self.writer.as_default():
                for tag, variable in tagged_variables:
                    write_tensor_statistics(tag, variable.value, step)
                for (tag, _), values in zip(tagged_outputs, activations, strict=True):
                    write_tensor_statistics(tag, values, step)
            return step

        return write

    def write(self, step: int) -> None:
        if self._write is None:
            self._write = self._build_writer_function()
        self._write(tf.constant(step, dtype=tf.int64))
        self.counter.last_logged_step = step

    def on_epoch_begin(self, epoch, logs=None):
        first_epoch = epoch == 0 and self.counter.last_logged_step == 0
        self.counter.begin_epoch(epoch)
        if first_epoch:
            self.write(0)

    def on_train_batch_end(self, batch, logs=None):
        step = self.counter.global_step(batch)
        if self.counter.crossed_boundary(step):
            self.write(step)

    def on_train_end(self, logs=None):
        self.writer.flush()
