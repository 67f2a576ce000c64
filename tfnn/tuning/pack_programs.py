"""The compiled programs of packs: one traced epoch and scoring per pack shape, shared
by every lane's packs of that shape (tracing, and XLA's compiling, cost seconds; a
search has a few shapes).
"""

from __future__ import annotations

import time

import numpy as np
import tensorflow as tf

from tfnn.tuning import compile_cache
from tfnn.tuning.block_network import BlockNetwork, BlockShape
from tfnn.tuning.lanes import current_lane, program_running
from tfnn.tuning.pack_network import PackedNetwork, PackShape


class PackProgram:
    """A lane's network of one :class:`PackShape` and the shape's traced epoch and
    scoring (tracing, and XLA's compiling, cost seconds; a search has a few shapes).

    The traced functions take the network's variables as arguments, so the programs
    of every lane share one trace and one XLA compile per shape and batch size.
    """

    def __init__(self, shape: PackShape | BlockShape, jit_compile: bool):
        self.network = network_of(shape)
        self._functions = _shared_functions(shape, jit_compile)

    def train_epoch(self, *args) -> list[np.ndarray]:
        """One round of the pack: per slot (loss sum, correct, samples)."""
        return self._run(self._functions.train_epoch, args)

    def score(self, *args) -> list[np.ndarray]:
        """Per slot (loss sum, correct, samples) on the given rows."""
        return self._run(self._functions.score, args)

    def _run(self, function, args) -> list[np.ndarray]:
        # Traced here (Python building a graph, with the lane's lock held), then run with
        # the lock released: the other lanes' programs run meanwhile.
        concrete = self._functions.concrete(function, self.network.state, args)
        started = time.perf_counter()
        with program_running():
            values = [value.numpy() for value in concrete(self.network.state, *args)]
        # Back under the lock (or in the only thread): the sum is not raced.
        _RUNNING[0] += time.perf_counter() - started
        return values


class _SharedFunctions:
    """The traced epoch and scoring of one shape, for any network of that shape."""

    def __init__(self, shape: PackShape, jit_compile: bool):
        self.shape = shape
        self.train_epoch = tf.function(self._epoch, jit_compile=jit_compile, autograph=False)
        self.score = tf.function(self._score, jit_compile=jit_compile, autograph=False)
        # Concrete functions by name, traced once: TensorFlow's own lookup walks the
        # ~40 variables of the state on every call (~1 ms, with the lock held).
        self._concrete: dict[str, object] = {}

    def concrete(self, function, state: dict, args):
        """``function``'s one trace for every lane, batch size and row count (XLA
        still compiles each concrete size, outside the lanes' lock), under names that
        stay the same from process to process (:func:`compile_cache.stable_names`)."""
        if function.name not in self._concrete:
            with compile_cache.stable_names((function.name, self.shape)):
                self._concrete[function.name] = function.get_concrete_function(
                    state, *self._open_sizes(function, args)
                )
        return self._concrete[function.name]

    def _open_sizes(self, function, args) -> list[tf.TensorSpec]:
        """``args``' specs with the sizes that vary left open (rows of the data, steps,
        batch and chunk sizes); slots and features stay fixed."""
        x, y, rows, weights = args[:4]
        data = [tf.TensorSpec([None, x.shape[1]], x.dtype), tf.TensorSpec([None], y.dtype)]
        size = self.shape.size
        if function is self.score:  # [slots, rows] chunks
            return [*data, *(tf.TensorSpec([size, None], arg.dtype) for arg in (rows, weights))]
        steps = [tf.TensorSpec([None, size, None], arg.dtype) for arg in (rows, weights)]
        active, count = args[4:]
        return [
            *data,
            *steps,
            tf.TensorSpec([None, size], active.dtype),
            tf.TensorSpec([], count.dtype),
        ]

    def _epoch(self, state, x, y, rows, weights, active, steps):
        network = network_of(self.shape, state)
        zeros = tf.zeros([self.shape.size])

        def step_once(step, loss_sum, correct_sum, count):
            batch_x, batch_y = tf.gather(x, rows[step]), tf.gather(y, rows[step])
            loss, correct, samples = network.train_step(
                batch_x, batch_y, weights[step], active[step]
            )
            live = tf.cast(active[step], tf.float32)
            return (
                step + 1,
                loss_sum + loss * samples * live,
                correct_sum + correct * live,
                count + samples * live,
            )

        # ``rows`` is padded to a power of two of steps, so that folds and splits of
        # nearly one size (1,149 and 1,150 rows) share one compiled program. The loop
        # is written out (no autograph): converting the source took half the trace.
        _, loss_sum, correct_sum, count = tf.while_loop(
            lambda step, *_: step < steps, step_once, (tf.constant(0), zeros, zeros, zeros)
        )
        return loss_sum, correct_sum, count

    def _score(self, state, x, y, rows, weights):
        loss, correct, samples = network_of(self.shape, state).losses(
            tf.gather(x, rows), tf.gather(y, rows), weights, training=False
        )
        return loss * samples, correct, samples


_FUNCTIONS: dict[tuple[PackShape | BlockShape, bool], _SharedFunctions] = {}
_PROGRAMS: dict[tuple[int, PackShape | BlockShape, bool], PackProgram] = {}

# Seconds this process's pack programs ran (their XLA compiles included), all lanes.
_RUNNING = [0.0]


def program_seconds() -> float:
    """Seconds the pack programs of this process have run so far, summed over lanes
    (a program's first run includes its XLA compile or its load from the cache)."""
    return _RUNNING[0]


def network_of(shape: PackShape | BlockShape, state: dict | None = None):
    """The network of ``shape``'s layout: members padded side by side in slots, or
    (:class:`BlockShape`) their units in blocks of one wide layer."""
    if isinstance(shape, BlockShape):
        return BlockNetwork(shape, state)
    return PackedNetwork(shape, state)


def _shared_functions(shape: PackShape, jit_compile: bool) -> _SharedFunctions:
    key = (shape, jit_compile)
    if key not in _FUNCTIONS:
        _FUNCTIONS[key] = _SharedFunctions(shape, jit_compile)
    return _FUNCTIONS[key]


def program_for(shape: PackShape | BlockShape, jit_compile: bool) -> PackProgram:
    """This lane's program for ``shape`` (see :mod:`tfnn.tuning.lanes`): of the shapes
    already traced, in any lane, the cheapest that covers it (XLA compiles each program
    in ~1.5 s, more than a pack of short trials trains), else ``shape`` itself."""
    covering = [known for known, jit in _FUNCTIONS if jit == jit_compile and known.covers(shape)]
    if covering:
        shape = min(covering, key=lambda known: known.weights)
    key = (current_lane(), shape, jit_compile)
    if key not in _PROGRAMS:
        _PROGRAMS[key] = PackProgram(shape, jit_compile)
    return _PROGRAMS[key]


def forget_programs() -> None:
    """Drops this process's compiled programs (their variables and XLA code): the next
    pack traces and compiles afresh."""
    _PROGRAMS.clear()
    _FUNCTIONS.clear()
    compile_cache.forget()
