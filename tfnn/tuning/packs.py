"""Training a pack: K members in one compiled program, each as its solo fit would train.

Every member sees exactly the batches its own ``fit_model`` would (the stream of
:func:`tfnn.training.streams.make_training_stream`: a stateless shuffle seeded by
(seed, pass) over the member's training rows), takes its own epochs, validates after
its own epochs, and reports Keras' numbers: the epoch ``loss`` (batch losses
including L2, weighted by batch size), ``accuracy``, and ``val_*``. Members of a pack
share a batch size; a member whose epochs are done, or whose loss turned NaN, stops
updating while the others go on.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import time
from collections.abc import Callable, Collection, Sequence

import keras
import numpy as np
import tensorflow as tf

from tfnn import interrupts
from tfnn.training.streams import pass_order
from tfnn.tuning.block_network import BlockShape, member_blocks, side_by_side_shape
from tfnn.tuning.pack_network import PackShape, optimizer_rule
from tfnn.tuning.pack_programs import program_for

# Validation samples scored per call (the [K, n, width] activations stay small).
VALIDATION_CHUNK = 2048


@dataclasses.dataclass(frozen=True)
class PackMember:
    """One member: its compiled model and what its solo fit would train on.

    Attributes:
        model: Built and compiled by the training command's code.
        epochs: Passes over ``rows``.
        rows: Indices into the pack's ``x`` this member trains on, in the order
            its solo fit is given them.
        validation_rows: Indices into ``x`` scored as ``val_*``, or None.
        validation_epochs: The (1-based) epochs after which to score them.
        callbacks: Keras callbacks driven at the member's train and epoch begins and ends
            (TensorBoard).
    """

    model: keras.Model
    epochs: int
    rows: np.ndarray
    validation_rows: np.ndarray | None = None
    validation_epochs: Collection[int] = ()
    callbacks: Sequence[keras.callbacks.Callback] = ()


@dataclasses.dataclass
class MemberResult:
    """What a member's fit returned: Keras' History dictionary and, if it diverged, why."""

    history: dict[str, list[float]]
    failed_epoch: int | None = None
    # Its share of the pack's time: wall time in its slot over the number of slots.
    seconds: float = 0.0

    @property
    def last(self) -> dict[str, float]:
        return {name: values[-1] for name, values in self.history.items() if values}


def pack_features(x: np.ndarray) -> tf.Tensor:
    """Samples flattened to vectors, as one tensor every pack gathers its batches from."""
    return tf.constant(np.asarray(x, np.float32).reshape(len(x), -1))


def pack_labels(y: np.ndarray) -> tf.Tensor:
    return tf.constant(np.asarray(y).astype(np.int32))


@functools.lru_cache(maxsize=4096)
def shuffled_order(count: int, seed: int, epoch: int) -> np.ndarray:
    """:func:`~tfnn.training.streams.pass_order` as an array, drawn once per process: a
    search's packs all take the same passes over the same rows (~1 ms a draw)."""
    order = pass_order(count, seed, epoch).numpy()
    order.flags.writeable = False
    return order


def padded_length(count: int, minimum: int = 1) -> int:
    """``count`` rounded up to a power of two: few distinct shapes, few compiles."""
    return max(minimum, 1 << max(0, count - 1).bit_length())


class PackTrainer:
    """Trains a queue of members in ``size`` slots on ``(x, y)``; members index into those
    arrays. A slot whose member is done takes the next one at once, so members of
    10 and 80 epochs share a pack without the short ones' slots idling.

    Args:
        members: Same batch size, same depth (see :class:`PackShape`), in the order
            they take slots.
        x: Features, ``[samples, ...]`` (flattened per sample), or the tensor of them.
        y: Integer labels.
        batch_size: Every member's batch size.
        seed: The batch order's seed (``TrainingData.seed`` of the solo fits).
        jit_compile: Compile the epoch with XLA.
        size: Slots (0: one per member; stacked, rounded up to a power of two). The pack may
            run with more: it takes any compiled program whose shape covers its own
            (``self.shape`` is that program's), the extra slots staying empty.
        side_by_side: Put the members' units side by side in blocks of one wide layer
            (:mod:`tfnn.tuning.block_network`) when they allow it (one hidden layer
            without dropout): each then costs its own width, not the widest member's.
        activations: Activations the program should hold beyond the members' own, so
            that the packs of one search share programs.
    """

    def __init__(
        self,
        members: Sequence[PackMember],
        x: np.ndarray | tf.Tensor,
        y: np.ndarray | tf.Tensor,
        batch_size: int,
        seed: int,
        jit_compile: bool = False,
        size: int = 0,
        side_by_side: bool = True,
        activations: Collection[str] = (),
    ):
        self.members = list(members)
        models = [member.model for member in members]
        shape = side_by_side_shape(models, size, activations) if side_by_side else None
        if shape is None:
            shape = PackShape.of(models, min(size, len(models)) if size else 0)
        self.program = program_for(shape, jit_compile)
        self.shape = self.program.network.shape
        # Blocks each member takes and the program has (all 0 when members are
        # stacked: any member fits any free slot).
        side = isinstance(self.shape, BlockShape)
        self.blocks = [member_blocks(model) if side else 0 for model in models]
        self.capacity = self.shape.blocks if side else 0
        self.x = x if isinstance(x, tf.Tensor) else pack_features(x)
        self.y = y if isinstance(y, tf.Tensor) else pack_labels(y)
        self.batch_size = batch_size
        self.seed = seed
        self._callback_lists: dict[int, keras.callbacks.CallbackList] = {}
        self._learning_rates: dict[int, float] = {}

    def _order(self, count: int, epoch: int) -> np.ndarray:
        """The order of ``epoch``'s pass over ``count`` rows, as ``make_training_stream``
        draws it (a full batch is not shuffled there either)."""
        if self.batch_size >= count:
            return np.arange(count)
        return shuffled_order(count, self.seed, epoch)

    def _epoch_batches(self, slots: list[tuple[int, int] | None]):
        """(rows [S, K, B], weights [S, K, B], active [S, K], steps) of one round, each
        slot (member, epoch) at its member's own epoch; S is ``steps`` padded."""
        batch = self.batch_size
        steps = {
            slot: math.ceil(len(self.members[busy[0]].rows) / batch)
            for slot, busy in enumerate(slots)
            if busy is not None
        }
        span, size = padded_length(max(steps.values())), self.shape.size
        rows = np.zeros((span, size, batch), np.int32)
        weights = np.zeros((span, size, batch), np.float32)
        active = np.zeros((span, size), bool)
        for slot, count_steps in steps.items():
            member, epoch = slots[slot]
            member_rows = self.members[member].rows
            count = len(member_rows)
            padded = np.zeros(count_steps * batch, np.int32)
            padded[:count] = member_rows[self._order(count, epoch)]
            mask = np.zeros(count_steps * batch, np.float32)
            mask[:count] = 1.0
            rows[:count_steps, slot] = padded.reshape(-1, batch)
            weights[:count_steps, slot] = mask.reshape(-1, batch)
            active[:count_steps, slot] = True
        return rows, weights, active, tf.constant(max(steps.values()), tf.int32)

    def validate(self, rows_of: dict[int, np.ndarray]) -> dict[int, tuple[float, float]]:
        """(loss, accuracy) of the slots in ``rows_of`` on their rows."""
        longest = max(len(rows) for rows in rows_of.values())
        sums = np.zeros((3, self.shape.size))
        for start in range(0, longest, VALIDATION_CHUNK):
            width = padded_length(min(VALIDATION_CHUNK, longest - start), 64)
            rows = np.zeros((self.shape.size, width), np.int32)
            weights = np.zeros((self.shape.size, width), np.float32)
            for slot, slot_rows in rows_of.items():
                part = slot_rows[start : start + width]
                rows[slot, : len(part)] = part
                weights[slot, : len(part)] = 1.0
            sums += np.array(self.program.score(self.x, self.y, rows, weights))
        return {
            slot: (sums[0][slot] / sums[2][slot], sums[1][slot] / sums[2][slot]) for slot in rows_of
        }

    def fit(self, on_member_end: Callable[[int, MemberResult], None] | None = None):
        """Trains every member for its epochs.

        Args:
            on_member_end: Called with (member index, result) as each member ends.

        Returns:
            The members' results, in their order.
        """
        results: list[MemberResult | None] = [None] * len(self.members)
        waiting = list(range(len(self.members)))
        slots: list[tuple[int, int] | None] = [None] * self.shape.size
        started: dict[int, float] = {}
        network = self.program.network
        network.seed_dropout(self.seed)
        while waiting or any(slots):
            refill = {}
            free = self._free_blocks(slots)
            for slot, busy in enumerate(slots):
                if busy is None:
                    member = self._next(waiting, free)
                    refill[slot] = None if member is None else self.members[member].model
                    if member is not None:
                        slots[slot] = (member, 0)
                        free -= self.blocks[member]
                        results[member] = MemberResult({"loss": [], "accuracy": []})
                        started[member] = time.perf_counter()
                        self._callbacks(member).on_train_begin()
            if any(model is not None for model in refill.values()):
                network.load(refill)
            for busy in slots:
                if busy is not None:
                    self._callbacks(busy[0]).on_epoch_begin(busy[1])
            loss_sum, correct, count = self.program.train_epoch(
                self.x, self.y, *self._epoch_batches(slots)
            )
            scored = {}
            for slot, busy in enumerate(slots):
                if busy is not None:
                    member = self.members[busy[0]]
                    if (
                        member.validation_rows is not None
                        and busy[1] + 1 in member.validation_epochs
                    ):
                        scored[slot] = member.validation_rows
            validation = self.validate(scored) if scored else {}
            for slot, busy in enumerate(slots):
                if busy is None:
                    continue
                index, epoch = busy
                logs = {
                    "loss": float(loss_sum[slot] / count[slot]),
                    "accuracy": float(correct[slot] / count[slot]),
                }
                if slot in validation:
                    logs.update(
                        val_loss=float(validation[slot][0]), val_accuracy=float(validation[slot][1])
                    )
                result = results[index]
                for name, value in logs.items():
                    result.history.setdefault(name, []).append(value)
                self._callbacks(index).on_epoch_end(
                    epoch, {**logs, "learning_rate": self._learning_rate(index)}
                )
                if not math.isfinite(logs["loss"]):
                    result.failed_epoch = epoch + 1
                if result.failed_epoch or epoch + 1 == self.members[index].epochs:
                    slots[slot] = None
                    result.seconds = (time.perf_counter() - started[index]) / len(slots)
                    self._callbacks(index).on_train_end()
                    if on_member_end is not None:
                        on_member_end(index, result)
                else:
                    slots[slot] = (index, epoch + 1)
            if interrupts.requested():
                raise KeyboardInterrupt
        return results

    def _free_blocks(self, slots: list) -> int:
        """Blocks the busy slots leave free."""
        return self.capacity - sum(self.blocks[busy[0]] for busy in slots if busy is not None)

    def _next(self, waiting: list[int], free: int) -> int | None:
        """Takes from ``waiting`` the first member that fits in ``free`` blocks, or
        None: the slot waits for blocks."""
        for position, member in enumerate(waiting):
            if self.blocks[member] <= free:
                return waiting.pop(position)
        return None

    def _learning_rate(self, index: int) -> float:
        """Member ``index``'s learning rate (a pack takes constant ones only), as Keras'
        learning-rate callbacks put it in an epoch's logs."""
        if index not in self._learning_rates:
            model = self.members[index].model
            self._learning_rates[index] = float(optimizer_rule(model.optimizer)["learning_rate"])
        return self._learning_rates[index]

    def _callbacks(self, index: int) -> keras.callbacks.CallbackList:
        """Member ``index``'s callbacks, set on its own model."""
        if index not in self._callback_lists:
            member = self.members[index]
            self._callback_lists[index] = keras.callbacks.CallbackList(
                list(member.callbacks), model=member.model
            )
        return self._callback_lists[index]
