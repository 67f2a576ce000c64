"""Callback that writes the op graph of the training step once, after the first batch."""

from __future__ import annotations

import keras
import tensorflow as tf

from tfnn.tensorboard.graph import trace_train_step, write_graph
from tfnn.tensorboard.scalars import RunWriters


class GraphLogger(keras.callbacks.Callback):
    """Traces ``model.train_step`` for the training data's spec and writes its graph.

    Waiting for the first batch means the optimizer and metrics exist, so the
    trace creates no variables and does not touch training. The Keras
    conceptual graph is left to ``model.summary()`` in ``model.txt``.

    Args:
        writers: The run's writers; the graph goes to the ``train`` sub-run.
        element_spec: ``(x_spec, y_spec)`` of the training ``tf.data.Dataset``.
        write: False to skip (the run being resumed wrote it already).
    """

    def __init__(
        self,
        writers: RunWriters,
        element_spec: tuple[tf.TensorSpec, tf.TensorSpec],
        write: bool = True,
    ):
        super().__init__()
        self.writers = writers
        self.element_spec = element_spec
        # A resumed run already has its graph.
        self.written = not write

    def on_train_batch_end(self, batch, logs=None):
        if self.written:
            return
        self.written = True
        graph = trace_train_step(self.model, *self.element_spec)
        with self.writers["train"].as_default():
            tf.summary.graph(graph)


__all__ = ["GraphLogger", "write_graph"]
