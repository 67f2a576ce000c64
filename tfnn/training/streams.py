"""The batches a model trains and is scored on: a seeded endless stream, cached test batches."""

from __future__ import annotations

import math

import numpy as np
import tensorflow as tf

# Samples per batch where no gradients are kept (evaluation, prediction).
EVALUATION_BATCH_SIZE = 1024


def make_training_stream(
    x: np.ndarray, y: np.ndarray, batch_size: int, seed: int, first_step: int = 0
) -> tf.data.Dataset:
    """An endless stream of training batches, pass after pass, each pass in the order
    of a stateless shuffle seeded by (seed, pass). The batches depend only on the
    step number, so a resumed run sees exactly what an uninterrupted run would."""
    if batch_size >= len(x):
        # Full batch (moons): every step sees every sample, so order is irrelevant, and
        # shuffling 200 samples a step would cost more than the step itself.
        return tf.data.Dataset.from_tensors((x, y)).repeat()
    features, labels = tf.constant(x), tf.constant(y)
    steps_per_pass = math.ceil(len(x) / batch_size)
    first_pass, offset = divmod(first_step, steps_per_pass)

    def one_pass(pass_index):
        order = pass_order(len(x), seed, pass_index)
        return tf.data.Dataset.from_tensor_slices(order).batch(batch_size)

    def gather(indices):
        return tf.gather(features, indices), tf.gather(labels, indices)

    stream = tf.data.Dataset.range(first_pass, 2**62).flat_map(one_pass).skip(offset)
    return stream.map(gather, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)


def pass_order(count: int, seed: int, pass_index) -> tf.Tensor:
    """The order of pass ``pass_index`` over ``count`` samples: a stateless shuffle seeded
    by (seed, pass), so any pass can be drawn again without the ones before it (packed
    tuner trials draw their members' batches from it)."""
    return tf.random.experimental.stateless_shuffle(
        tf.range(count),
        seed=tf.stack([tf.constant(seed, tf.int64), tf.cast(pass_index, tf.int64)]),
    )


def make_dataset(
    x: np.ndarray, y: np.ndarray, batch_size: int, shuffle: bool, seed: int
) -> tf.data.Dataset:
    """An in-memory ``tf.data`` pipeline: cache, seeded reshuffle per epoch, prefetch."""
    dataset = tf.data.Dataset.from_tensor_slices((x, y)).cache()
    if shuffle:
        dataset = dataset.shuffle(len(x), seed=seed, reshuffle_each_iteration=True)
    return dataset.batch(batch_size).prefetch(tf.data.AUTOTUNE)
