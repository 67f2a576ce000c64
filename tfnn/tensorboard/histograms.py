"""Histograms and summary statistics of a tensor, written inside a compiled function."""

from __future__ import annotations

import tensorflow as tf
from tensorboard.plugins.histogram import metadata as histogram_metadata

# TensorBoard's default bucket count (tf.summary.histogram's).
HISTOGRAM_BUCKETS = 30
# A histogram sees an evenly strided sample of larger tensors (a conv layer's activations
# on 256 probe images are 6.4M values: ~25 ms to bucket them all); the scalars see
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


def write_histogram(tag: str, values: tf.Tensor, step) -> tf.Tensor:
    """Writes the histogram ``tag`` of ``values``; returns them flat, as float32."""
    values = tf.cast(tf.reshape(values, [-1]), tf.float32)
    stride = max(1, values.shape[0] // HISTOGRAM_SAMPLE) if values.shape[0] else 1
    tf.summary.write(
        tag, histogram_buckets(values[::stride]), step=step, metadata=_HISTOGRAM_METADATA
    )
    return values


def write_tensor_statistics(tag: str, values: tf.Tensor, step) -> None:
    """Histogram ``tag`` plus scalars ``tag/min``, ``/max``, ``/mean``, ``/std``."""
    values = write_histogram(tag, values, step)
    tf.summary.scalar(f"{tag}/min", tf.reduce_min(values), step=step)
    tf.summary.scalar(f"{tag}/max", tf.reduce_max(values), step=step)
    tf.summary.scalar(f"{tag}/mean", tf.reduce_mean(values), step=step)
    tf.summary.scalar(f"{tag}/std", tf.math.reduce_std(values), step=step)


def write_norm_statistics(tag: str, values: tf.Tensor, step) -> None:
    """Histogram ``tag`` plus the scalar ``tag/norm`` (the L2 norm)."""
    values = write_histogram(tag, values, step)
    tf.summary.scalar(f"{tag}/norm", tf.norm(values), step=step)
