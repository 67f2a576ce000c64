"""Op-level graphs for TensorBoard's Graphs dashboard.

Keras 3's TensorBoard callback writes no op graph, so we trace the functions
ourselves and write their ``GraphDef`` with ``tf.summary.graph``.
"""

from __future__ import annotations

import os

import keras
import tensorflow as tf


def write_graph(logdir: str | os.PathLike, graph: tf.Graph | tf.compat.v1.GraphDef) -> None:
    """Writes one op graph into the event file of ``logdir``.

    Args:
        logdir: Directory of the run (or of one of its sub-runs, e.g. ``train``).
        graph: A traced ``tf.Graph`` (``concrete_function.graph``) or a ``GraphDef``.
    """
    writer = tf.summary.create_file_writer(str(logdir))
    with writer.as_default():
        tf.summary.graph(graph)
    writer.flush()
    writer.close()


def write_function_graph(
    logdir: str | os.PathLike, function: tf.types.experimental.GenericFunction, *args
) -> tf.types.experimental.ConcreteFunction:
    """Traces ``function`` for ``args`` (tensors or ``tf.TensorSpec``) and writes its graph.

    Returns:
        The concrete function, so callers can run exactly what was drawn.
    """
    concrete = function.get_concrete_function(*args)
    write_graph(logdir, concrete.graph)
    return concrete


def trace_train_step(model: keras.Model, x_spec: tf.TensorSpec, y_spec: tf.TensorSpec):
    """Traces ``model.train_step`` into a graph without running it.

    The model, its optimizer and compiled metrics must already be built (call it
    after the first training batch): tracing then creates no variables and the
    traced step changes no weights, so training is unaffected.

    Returns:
        The traced ``tf.Graph``: forward pass, loss, gradients and optimizer update.
    """

    def train_step(x, y):
        return model.train_step((x, y))

    step = tf.function(train_step, jit_compile=bool(model.jit_compile))
    return step.get_concrete_function(x_spec, y_spec).graph
