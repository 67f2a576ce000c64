"""Layer statistics' histograms: TensorBoard's buckets, counted over every value."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from tfnn.tensorboard.histograms import HISTOGRAM_BUCKETS, histogram_buckets


@pytest.mark.parametrize(
    "values",
    [
        np.random.default_rng(0).normal(size=200_000),
        np.random.default_rng(1).random(1000).astype(np.float32),
        np.array([-1.0, 2.0]),
    ],
)
def test_histogram_buckets_match_numpy(values):
    buckets = histogram_buckets(tf.constant(values)).numpy()
    counts, edges = np.histogram(values.astype(np.float64), bins=HISTOGRAM_BUCKETS)
    assert buckets.shape == (HISTOGRAM_BUCKETS, 3)
    np.testing.assert_allclose(buckets[:, 0], edges[:-1], rtol=1e-12)
    np.testing.assert_allclose(buckets[:, 1], edges[1:], rtol=1e-12)
    # np.histogram puts values on an inner edge in the upper bucket, as TensorBoard does.
    np.testing.assert_array_equal(buckets[:, 2], counts)


def test_histogram_buckets_of_one_repeated_value():
    buckets = histogram_buckets(tf.fill([7], 3.0)).numpy()
    np.testing.assert_array_equal(buckets[:, :2], 3.0)
    assert buckets[-1, 2] == 7 and buckets[:-1, 2].sum() == 0
