"""Op-level graphs for TensorBoard's Graphs dashboard.

Keras 3's TensorBoard callback writes no op graph (``write_graph`` is "not supported
at this time"), so the training step is traced here and written with
``tf.summary.graph``: the model (its forward pass, in the model's own name scope), the
loss, gradients, optimizer update and metrics each in a box of their own, so the graph
opens on five boxes and the model's layers are one double-click away.
"""

from __future__ import annotations

import os
import re

import keras
import tensorflow as tf

from tfnn.tensorboard.scalars import TRAIN_RUN
from tfnn.tensorboard.writers import RunWriters, WritingCallback

# The training step's parts, in the order they run.
STEP_SCOPES = ("loss", "gradients", "optimizer", "metrics")


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


def _overrides_train_step(model: keras.Model) -> bool:
    return type(model).train_step is not keras.Model.train_step


def _scoped_train_step(model: keras.Model):
    """Keras' ``train_step`` (TensorFlow backend) written out with a name scope per part."""

    def train_step(x, y):
        variables = model.trainable_variables
        with tf.GradientTape() as tape:
            predicted = model(x, training=True)  # in the model's name scope
            with tf.name_scope("loss"):
                loss = model.compute_loss(x=x, y=y, y_pred=predicted, training=True)
                loss = model.optimizer.scale_loss(loss)
        with tf.name_scope("gradients"):
            gradients = tape.gradient(loss, variables)
        with tf.name_scope("optimizer"):
            model.optimizer.apply_gradients(zip(gradients, variables, strict=True))
        with tf.name_scope("metrics"):
            return model.compute_metrics(x, y, predicted, sample_weight=None)

    return train_step


def trace_train_step(model: keras.Model, x_spec, y_spec) -> tf.compat.v1.GraphDef:
    """The training step's op graph for batches of ``(x_spec, y_spec)``, without running it.

    The model, its optimizer and its metrics must be built (after the first training
    batch): tracing then creates no variables and changes no weights. A model with its
    own ``train_step`` is traced as it is; others get Keras' step in name scopes.
    """
    if _overrides_train_step(model):

        def step(x, y):
            return model.train_step((x, y))

    else:
        step = _scoped_train_step(model)
    x_spec, y_spec = replica_spec(x_spec), replica_spec(y_spec)
    strategy = getattr(model, "distribute_strategy", None)
    if strategy is not None and strategy.num_replicas_in_sync > 1:
        # Mirrored variables are updated only inside a replica context: draw the step
        # as the strategy runs it, all-reduce included.
        replica_step = step

        def step(x, y):
            return strategy.run(replica_step, args=(x, y))

    function = tf.function(step, jit_compile=bool(model.jit_compile))
    graph = function.get_concrete_function(x_spec, y_spec).graph
    return without_layer_suffixes(graph.as_graph_def(), layer_names(model))


def replica_spec(spec):
    """One replica's ``tf.TensorSpec`` for a distributed iterator's ``PerReplicaSpec``."""
    value_specs = getattr(spec, "_value_specs", None)
    return value_specs[0] if value_specs else spec


def layer_names(model: keras.Model) -> set[str]:
    """The names of the model and of every layer inside it."""
    names = {model.name}
    for layer in model._flatten_layers(include_self=False, recursive=True):
        names.add(layer.name)
    return names


def without_layer_suffixes(graph_def: tf.compat.v1.GraphDef, names: set[str]):
    """``graph_def`` with Keras' duplicate-scope suffixes dropped: ``hidden1_1`` reads
    ``hidden1`` where no ``hidden1`` scope exists beside it.

    Keras opens each layer's name scope twice when it calls the layer, so TensorFlow
    names the second (the one holding the ops) ``<layer>_1``.
    """
    node_names = {node.name for node in graph_def.node}
    used = {
        tuple(name.split("/")[: depth + 1])
        for name in node_names
        for depth in range(name.count("/") + 1)
    }

    def rename(name: str) -> str:
        parts = name.split("/")
        for index, part in enumerate(parts):
            match = re.fullmatch(r"(.+)_1", part)
            if match and match.group(1) in names:
                candidate = (*parts[:index], match.group(1))
                if candidate not in used:
                    parts[index] = match.group(1)
        return "/".join(parts)

    renamed = {name: rename(name) for name in node_names}
    graph_def = tf.compat.v1.GraphDef.FromString(graph_def.SerializeToString())
    for node in graph_def.node:
        node.name = renamed[node.name]
        for index, source in enumerate(node.input):
            control = source.startswith("^")
            name, _, port = source.lstrip("^").partition(":")
            new = renamed.get(name, name) + (f":{port}" if port else "")
            node.input[index] = ("^" if control else "") + new
    return graph_def


class GraphLogger(WritingCallback, keras.callbacks.Callback):
    """Writes the op graph of the training step once, after the first training batch,
    into the ``train`` sub-run.

    The input spec is read from the iterator Keras' ``fit`` hands its train function
    (numpy arrays, ``tf.data`` and generators alike). Waiting for the first batch means
    the optimizer and metrics exist, so the trace creates no variables. A run resumed
    after its first epoch has its graph already.

    Args:
        log_dir: The run's log directory (or its shared writers).
    """

    def __init__(self, log_dir: str | os.PathLike | RunWriters):
        super().__init__()
        self.writers = RunWriters.of(log_dir)
        self.element_spec = None
        self.written = False
        self._first_epoch: int | None = None

    def on_train_begin(self, logs=None):
        super().on_train_begin(logs)
        self._first_epoch = None
        train_function = getattr(self.model, "train_function", None)
        if self.written or train_function is None:
            return

        def recording(iterator):
            # Once: put Keras' own function back and remember what it was given.
            self.model.train_function = train_function
            self.element_spec = getattr(iterator, "element_spec", None)
            return train_function(iterator)

        self.model.train_function = recording

    def on_epoch_begin(self, epoch, logs=None):
        if self._first_epoch is None:
            self._first_epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if self.written:
            return
        self.written = True
        if self._first_epoch or self.element_spec is None:
            return  # resumed: the interrupted run wrote it
        x_spec, y_spec = self.element_spec[0], self.element_spec[1]
        with self.writers[TRAIN_RUN].as_default():
            tf.summary.graph(trace_train_step(self.model, x_spec, y_spec))
