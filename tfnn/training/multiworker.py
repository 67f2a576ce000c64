"""The multi-worker fit: tfnn's own distributed step around the same model and callbacks.

Keras 3's ``model.fit`` fails under ``MultiWorkerMirroredStrategy`` (it cannot
convert a ``PerReplica`` value; keras-team/keras#20585), so multi-worker runs
train with ``strategy.run`` on batches from ``distribute_datasets_from_function``
and drive the runner's callbacks themselves, the way ``fit`` would:

- Every worker runs the same steps (the collectives need all of them); each step
  takes one global batch of the same seeded stream a single process would use,
  cut into one slice per replica, so the steps and samples per epoch equal a
  single-process run with the same global batch.
- Only the chief runs the callbacks (TensorBoard, images, results, backups). They
  see a plain local copy of the model, refreshed after every compiled call, so
  their ``predict``/``evaluate`` calls need no other worker; ``BackupAndRestore``
  saves and restores the distributed model itself, optimizer state included.
- On start the chief's weights, optimizer state and epoch are sent to every
  worker, so a job restarted with ``--resume`` continues from the chief's backup
  even where the other workers cannot read it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import keras
import numpy as np
import tensorflow as tf

from tfnn.tensorboard.graph import GraphLogger
from tfnn.training.streams import make_training_stream

SUM = tf.distribute.ReduceOp.SUM


def replica_batches(
    input_context: tf.distribute.InputContext,
    x: np.ndarray,
    y: np.ndarray,
    global_batch_size: int,
    seed: int,
    first_step: int,
    replicas: int,
) -> tf.data.Dataset:
    """This worker's share of the single-process stream of global batches.

    Each global batch is cut into ``replicas`` near-equal consecutive slices;
    the worker yields the slices of its own replicas (one element per replica,
    in replica order) together with the global batch's size, which every
    replica divides its summed loss by.
    """
    stream = make_training_stream(x, y, global_batch_size, seed, first_step)
    local_replicas = replicas // input_context.num_input_pipelines
    first_replica = input_context.input_pipeline_id * local_replicas

    def piece(features, labels, replica):
        size = tf.shape(labels, out_type=tf.int64)[0]
        per_replica = (size + replicas - 1) // replicas
        start = tf.minimum(replica * per_replica, size)
        stop = tf.minimum(start + per_replica, size)
        return features[start:stop], labels[start:stop], tf.cast(size, tf.float32)

    if local_replicas == 1:
        return stream.map(lambda features, labels: piece(features, labels, first_replica))
    return stream.flat_map(
        lambda features, labels: tf.data.Dataset.range(
            first_replica, first_replica + local_replicas
        ).map(lambda replica: piece(features, labels, replica))
    )


def broadcast_from_chief(
    strategy: tf.distribute.Strategy, variables: Sequence, epoch: int, chief: bool
) -> int:
    """Gives every worker the chief's values of ``variables`` and its ``epoch``.

    An all-reduce of the values times 1 on the chief and 0 elsewhere (divided by
    the chief's replica count), in float64 so float32 and counter values pass
    exactly. Every worker must call it with the same variables.

    Returns:
        The chief's epoch.
    """
    keep = 1.0 if chief else 0.0

    @tf.function
    def gather():
        def replica_fn():
            context = tf.distribute.get_replica_context()
            weight = tf.constant(keep, tf.float64)
            chief_replicas = context.all_reduce(SUM, weight)
            values = [tf.cast(variable.value, tf.float64) * weight for variable in variables]
            values.append(tf.constant(float(epoch), tf.float64) * weight)
            return [value / chief_replicas for value in context.all_reduce(SUM, values)]

        return strategy.experimental_local_results(strategy.run(replica_fn))[0]

    *values, chief_epoch = gather()
    for variable, value in zip(variables, values, strict=True):
        variable.assign(tf.cast(value, variable.dtype))
    return int(round(float(chief_epoch)))


def _distributed_train_function(
    model: keras.Model, strategy: tf.distribute.Strategy, iterator, loss_reduction: str
):
    """``tf.function``s: ``train_steps(steps)`` trains ``steps`` global batches and
    returns the sums (loss x samples, correct predictions, samples) over them;
    ``one_step()`` is one step, traced (never run) for the op graph."""
    optimizer = model.optimizer
    replicas = strategy.num_replicas_in_sync

    def replica_step(features, labels, global_samples):
        labels = tf.cast(labels, tf.int64)
        with tf.GradientTape() as tape:
            probabilities = model(features, training=True)
            loss = tf.reduce_sum(
                keras.losses.sparse_categorical_crossentropy(labels, probabilities)
            )
            if loss_reduction == "mean":
                loss = loss / global_samples
            if model.losses:
                # Every replica adds it; the all-reduced gradient counts it once.
                loss = loss + tf.add_n(model.losses) / replicas
            scaled_loss = optimizer.scale_loss(loss)
        gradients = tape.gradient(scaled_loss, model.trainable_variables)
        optimizer.apply(gradients, model.trainable_variables)
        predicted = tf.argmax(probabilities, axis=-1, output_type=tf.int64)
        return loss, tf.reduce_sum(tf.cast(tf.equal(predicted, labels), tf.float32))

    @tf.function
    def one_step():
        return strategy.run(replica_step, args=next(iterator))

    @tf.function
    def train_steps(steps):
        sums = tf.zeros([3])
        for _ in tf.range(steps):
            features, labels, global_samples = next(iterator)
            loss, correct = strategy.run(replica_step, args=(features, labels, global_samples))
            samples = strategy.experimental_local_results(global_samples)[0]
            sums += tf.stack(
                [
                    strategy.reduce(SUM, loss, axis=None) * samples,
                    strategy.reduce(SUM, correct, axis=None),
                    samples,
                ]
            )
        return sums

    return train_steps, one_step


def fit_distributed(
    model: keras.Model,
    strategy: tf.distribute.Strategy,
    *,
    x_train: np.ndarray,
    y_train: np.ndarray,
    global_batch_size: int,
    seed: int,
    epochs: int,
    steps_per_epoch: int,
    loss_reduction: str,
    callbacks: Sequence[keras.callbacks.Callback],
    validation_data: tf.data.Dataset | None,
    make_local_model: Callable[[], keras.Model],
    chief: bool,
) -> keras.Model:
    """Trains ``model`` (built and compiled in ``strategy``'s scope) on every worker.

    Args:
        model: The distributed model; its ``steps_per_execution`` sets how many
            steps run per compiled call (and between callback calls).
        strategy: A ``MultiWorkerMirroredStrategy``.
        x_train: Training inputs, the same on every worker.
        y_train: Training labels.
        global_batch_size: Samples per step over all replicas.
        seed: Seeds the stream of batches (as ``make_training_stream``).
        epochs: Epochs to reach, counting those a resumed run already did.
        steps_per_epoch: Global steps per epoch.
        loss_reduction: ``mean`` or ``sum`` over the global batch.
        callbacks: The runner's callbacks; run on the chief only.
        validation_data: Evaluated on the chief after each epoch (``val_*`` logs).
        make_local_model: Builds and compiles a plain copy of the model (outside
            the strategy) for the callbacks; called on the chief only.
        chief: Whether this process is the chief.

    Returns:
        On the chief, the local copy holding the trained weights, for saving and
        the final evaluation; elsewhere ``model``.
    """
    with strategy.scope():
        if not model.optimizer.built:
            model.optimizer.build(model.trainable_variables)
    callbacks = list(callbacks) if chief else []
    graph_loggers = [callback for callback in callbacks if isinstance(callback, GraphLogger)]
    backups = [c for c in callbacks if isinstance(c, keras.callbacks.BackupAndRestore)]
    views = [c for c in callbacks if c not in graph_loggers and c not in backups]
    local_model = make_local_model() if chief else model
    params = {"epochs": epochs, "steps": steps_per_epoch, "verbose": 0}
    # The views first: BackupAndRestore comes last, so an epoch counts as done only
    # after its summaries are flushed (as in the runner's list).
    view_callbacks = keras.callbacks.CallbackList(views, model=local_model, **params)
    state_callbacks = keras.callbacks.CallbackList(backups, model=model, **params)

    # BackupAndRestore reports the restored epoch here, where Keras' fit reads it.
    model._initial_epoch = None
    state_callbacks.on_train_begin()  # restores the chief's backup, if any
    state = model.trainable_variables + model.non_trainable_variables
    first_epoch = broadcast_from_chief(
        strategy, state + list(model.optimizer.variables), model._initial_epoch or 0, chief
    )

    def refresh_local_model() -> None:
        if local_model is not model:
            local_model.set_weights(model.get_weights())
            # The callbacks count steps by the optimizer's iterations.
            local_model.optimizer.iterations.assign(model.optimizer.iterations.value)

    refresh_local_model()
    view_callbacks.on_train_begin()
    replicas = strategy.num_replicas_in_sync
    batches = strategy.distribute_datasets_from_function(
        lambda input_context: replica_batches(
            input_context,
            x_train,
            y_train,
            global_batch_size,
            seed,
            first_epoch * steps_per_epoch,
            replicas,
        )
    )
    train_steps, one_step = _distributed_train_function(
        model, strategy, iter(batches), loss_reduction
    )
    steps_per_call = tf.constant(int(model.steps_per_execution))
    diverged = False
    for epoch in range(first_epoch, epochs):
        view_callbacks.on_epoch_begin(epoch)
        state_callbacks.on_epoch_begin(epoch)
        totals = np.zeros(3)
        logs: dict[str, float] = {}
        for begin in range(0, steps_per_epoch, int(steps_per_call)):
            view_callbacks.on_train_batch_begin(begin)
            totals += train_steps(steps_per_call).numpy()
            logs = {"loss": totals[0] / totals[2], "accuracy": totals[1] / totals[2]}
            refresh_local_model()
            end = begin + int(steps_per_call) - 1
            view_callbacks.on_train_batch_end(end, logs)
            state_callbacks.on_train_batch_end(end, logs)
            for logger in graph_loggers:
                if not logger.written:
                    # Traced after the training function, so the collectives that the
                    # chief alone traces here cannot shift the keys the workers share.
                    logger.written = True
                    with logger.writers["train"].as_default():
                        tf.summary.graph(one_step.get_concrete_function().graph)
            # The loss is all-reduced, so every worker stops at the same step.
            if not math.isfinite(logs["loss"]):
                diverged = True
                break
        epoch_logs = dict(logs)
        if chief and validation_data is not None:
            validation = local_model.evaluate(validation_data, verbose=0, return_dict=True)
            epoch_logs.update({f"val_{name}": value for name, value in validation.items()})
        view_callbacks.on_epoch_end(epoch, epoch_logs)
        state_callbacks.on_epoch_end(epoch, epoch_logs)
        if diverged:
            break
    view_callbacks.on_train_end()
    state_callbacks.on_train_end()
    return local_model
