"""Keeping a process that trains hundreds of small models flat in memory and time.

Every trial (and every cross-validation fold) builds, traces and trains a new
model in the same process. Two process-wide costs grow with that: TensorFlow's
gradient registry keeps every traced train step's graph, and each
``keras.backend.clear_session()`` runs a full garbage collection over
TensorFlow's ~400,000 Python objects (~0.5 s).
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator

from tensorflow.python.framework import ops as tf_ops


def custom_gradient_names() -> set[str]:
    """Names in TensorFlow's gradient registry that ``tf.custom_gradient`` added."""
    registry = getattr(getattr(tf_ops, "_gradient_registry", None), "_registry", {})
    return {name for name in registry if name.startswith("CustomGradient-")}


def forget_custom_gradients(keep: set[str]) -> None:
    """Drops the custom gradients registered since ``keep`` was taken, so the graphs of
    a finished fit can be freed.

    Tracing a Keras 3 train step registers ``tf.custom_gradient`` functions (from
    ``ReplicaContext.all_reduce``) in a process-wide registry that is never
    emptied; each entry holds its whole FuncGraph, so every trial leaked 2-4 MB
    even after ``clear_session()`` (keras-team/keras#17458). A finished fit's
    functions are never traced again, so their entries are not needed.
    """
    registry = getattr(getattr(tf_ops, "_gradient_registry", None), "_registry", {})
    for name in custom_gradient_names() - keep:
        registry.pop(name, None)


@contextlib.contextmanager
def frozen_garbage() -> Iterator[None]:
    """Freezes everything alive now (TensorFlow, Keras, the data: it lives as long as
    the search) so that the full collections before every fit skip it."""
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()
