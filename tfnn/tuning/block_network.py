"""Members of one hidden layer side by side in blocks: a pack that pays for the units
its members have.

:class:`~tfnn.tuning.pack_network.PackedNetwork` pads every member to the widest one
(a member of 20 units in a pack with one of 250 costs 256 units). Here a member's
hidden units take ``ceil(width / BLOCK)`` blocks of :data:`BLOCK` units, anywhere
among the program's blocks; each block reads its member's batch, and the blocks'
output products are summed into their member's logits. A slot that frees gives its
blocks to the next member. The same models go in (read off the builder's models and
Keras optimizers, as :mod:`~tfnn.tuning.pack_network` does) and every member follows
its own loss, L2 and optimizer; nothing of one member reaches another's numbers
(segment sums, not products with zeros, so one member's NaN stays its own).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Collection, Sequence

import keras
import numpy as np
import tensorflow as tf

from tfnn.tuning.pack_network import (
    ACTIVATIONS,
    EMPTY_RULE,
    RULE_FIELDS,
    MemberSteps,
    PackError,
    dense_layers,
    optimizer_rule,
)

# Units per block: a member of w units takes ceil(w / BLOCK) blocks. XLA's batched
# products cost per block more than per unit, so 32 rather than 16: the same 512 units
# train faster in 16 blocks than in 32, more than paying for narrow members' padding
# (whole searches measured in docs/tuning.md).
BLOCK = 32
# Blocks of a program unless one pack needs more: 512 units, two of the widest digits
# members or about six typical ones.
DEFAULT_BLOCKS = 16


def blocks_of(width: int) -> int:
    """Blocks a hidden layer of ``width`` units takes."""
    return math.ceil(width / BLOCK)


def member_blocks(model: keras.Model) -> int:
    """Blocks ``model``'s hidden layer takes.

    Raises:
        PackError: Not one hidden layer without dropout.
    """
    layers = dense_layers(model)
    if len(layers) != 2 or any(layer.dropout for layer in layers):
        raise PackError("side-by-side packs take one hidden layer without dropout")
    return blocks_of(int(layers[0].kernel.shape[1]))


@dataclasses.dataclass(frozen=True)
class BlockShape:
    """What fixes a side-by-side program: member slots, hidden blocks, features and
    classes, activations."""

    size: int
    blocks: int
    widths: tuple[int, int]
    activations: tuple[str, ...]

    @classmethod
    def of(
        cls,
        models: Sequence[keras.Model],
        size: int,
        activations: Collection[str] = (),
        blocks: int = DEFAULT_BLOCKS,
    ) -> BlockShape:
        """A shape for ``models``, some at a time: ``size`` slots, ``blocks`` blocks or
        room for two of the widest, their activations and ``activations``.

        Raises:
            PackError: A model that does not fit this layout.
        """
        widest = max(member_blocks(model) for model in models)
        members = [dense_layers(model) for model in models]
        ends = {(int(ls[0].kernel.shape[0]), int(ls[1].kernel.shape[1])) for ls in members}
        if len(ends) != 1:
            raise PackError("members of one pack need the same inputs and classes")
        names = {layers[0].activation for layers in members} | set(activations)
        unknown = names - set(ACTIVATIONS)
        if unknown:
            raise PackError(f"hidden activation {sorted(unknown)[0]!r} does not pack")
        # Room for two of the widest members at least: a slot that frees takes the next.
        blocks = max(blocks, 2 * _power_of_two(widest))
        return cls(size, blocks, ends.pop(), tuple(sorted(names)))

    @property
    def weights(self) -> int:
        """Kernel entries: what a step's arithmetic scales with."""
        return self.blocks * BLOCK * sum(self.widths)

    def covers(self, other) -> bool:
        """Whether this shape's program can train ``other``'s members."""
        return (
            isinstance(other, BlockShape)
            and self.size >= other.size
            and self.blocks >= other.blocks
            and self.widths == other.widths
            and set(other.activations) <= set(self.activations)
        )


def side_by_side_shape(
    models: Sequence[keras.Model], size: int = 0, activations: Collection[str] = ()
) -> BlockShape | None:
    """The :class:`BlockShape` for ``models`` in ``size`` slots (0: one per model) if
    their units can sit side by side, else None."""
    slots = min(size, len(models)) if size else len(models)
    try:
        return BlockShape.of(models, slots, activations)
    except PackError:
        return None


def _power_of_two(count: int) -> int:
    return 1 << max(0, count - 1).bit_length()


class BlockNetwork(MemberSteps):
    """The variables and training step of one :class:`BlockShape`: the interface of
    :class:`~tfnn.tuning.pack_network.PackedNetwork`.

    Args:
        shape: What the variables hold.
        state: Another network's :attr:`state` to work on (see ``PackedNetwork``).
    """

    def __init__(self, shape: BlockShape, state: dict | None = None):
        self.shape = shape
        self.state = state if state is not None else self._new_state(shape)
        state = self.state
        self.kernels, self.biases = state["kernels"], state["biases"]
        self.units, self.owner = state["units"], state["owner"]
        self.activation_masks, self.l2 = state["activation_masks"], state["l2"]
        self.rule, self.iterations = state["rule"], state["iterations"]
        self.first, self.second = state["first"], state["second"]
        self.variables = [self.kernels[0], self.biases[0], self.kernels[1], self.biases[1]]
        # Which blocks each slot holds, kept here: loading never reads it back.
        self._blocks: dict[int, np.ndarray] = {}

    @staticmethod
    def _new_state(shape: BlockShape) -> dict:
        # Block-major: block n's units are [n, :, :] of every hidden-layer tensor.
        size, blocks = shape.size, shape.blocks
        features, classes = shape.widths
        kernels = [
            tf.Variable(tf.zeros([blocks, features, BLOCK])),
            tf.Variable(tf.zeros([blocks, BLOCK, classes])),
        ]
        units = [blocks, 1, BLOCK]
        biases = [tf.Variable(tf.zeros(units)), tf.Variable(tf.zeros([size, classes]))]
        weights = [kernels[0], biases[0], kernels[1], biases[1]]
        return {
            "kernels": kernels,
            "biases": biases,
            "units": tf.Variable(tf.zeros(units)),
            # The slot of each block; ``size`` marks a free block (a segment dropped).
            "owner": tf.Variable(tf.fill([shape.blocks], size)),
            "activation_masks": {name: tf.Variable(tf.zeros(units)) for name in shape.activations},
            "l2": [tf.Variable(tf.zeros([size])) for _ in range(2)],
            "rule": {name: tf.Variable(tf.zeros([size])) for name in RULE_FIELDS},
            "first": [tf.Variable(tf.zeros_like(var)) for var in weights],
            "second": [tf.Variable(tf.zeros_like(var)) for var in weights],
            "iterations": tf.Variable(tf.zeros([size])),
        }

    def _all_variables(self) -> list[tf.Variable]:
        return [
            *self.variables, self.units, self.owner, *self.activation_masks.values(),
            *self.l2, *self.rule.values(), *self.first, *self.second, self.iterations,
        ]  # fmt: skip

    def seed_dropout(self, seed: int) -> None:
        """Nothing to seed: this layout takes no dropout."""
        del seed

    def load(self, slots: dict[int, keras.Model | None]) -> None:
        """Puts each model into its slot (None empties it) and its own blocks, with fresh
        optimizer state; other slots keep theirs.

        Raises:
            PackError: The new members' blocks do not fit beside the others'.
        """
        state = {id(var): var.numpy() for var in self._all_variables()}
        owner = state[id(self.owner)]
        for slot in slots:
            owner[self._blocks.pop(slot, [])] = self.shape.size
            self._clear(state, slot)
        for slot, model in slots.items():
            if model is not None:
                self._write(state, slot, model)
        for var in self._all_variables():
            var.assign(state[id(var)])

    def _take_blocks(self, owner: np.ndarray, count: int) -> np.ndarray:
        """The first ``count`` free blocks (a member's blocks need not be adjacent:
        segment sums gather them)."""
        free = np.flatnonzero(owner == self.shape.size)[:count]
        if len(free) < count:
            raise PackError(f"{count} blocks needed, {len(free)} free")
        return free

    def _clear(self, state: dict, slot: int) -> None:
        for name, variable in self.rule.items():
            state[id(variable)][slot] = EMPTY_RULE[name]
        for variable in (*self.l2, self.iterations):
            state[id(variable)][slot] = 0.0
        for first, second in zip(self.first[3:], self.second[3:], strict=True):
            state[id(first)][slot] = state[id(second)][slot] = 0.0
        state[id(self.biases[1])][slot] = 0.0

    def _write(self, state: dict, slot: int, model: keras.Model) -> None:
        hidden, output = dense_layers(model)
        width, classes = int(hidden.kernel.shape[1]), int(output.kernel.shape[1])
        blocks = self._take_blocks(state[id(self.owner)], blocks_of(width))
        self._blocks[slot] = blocks
        state[id(self.owner)][blocks] = slot
        # The member's units, zero-padded to whole blocks, block by block.
        count, padded = len(blocks), len(blocks) * BLOCK
        real = np.zeros(padded, np.float32)
        real[:width] = 1.0
        kernel = np.zeros((hidden.kernel.shape[0], padded), np.float32)
        kernel[:, :width] = hidden.kernel
        bias = np.zeros(padded, np.float32)
        bias[:width] = hidden.bias
        out = np.zeros((padded, classes), np.float32)
        out[:width] = output.kernel
        rule = optimizer_rule(model.optimizer)
        state[id(self.kernels[0])][blocks] = kernel.reshape(-1, count, BLOCK).transpose(1, 0, 2)
        state[id(self.biases[0])][blocks] = bias.reshape(count, 1, BLOCK)
        state[id(self.kernels[1])][blocks] = out.reshape(count, BLOCK, classes)
        state[id(self.biases[1])][slot] = output.bias
        for index, (first, second) in enumerate(zip(self.first, self.second, strict=True)):
            # The hidden layer's and output blocks' moments by block, the output bias's
            # (the last variable) by slot.
            where = slot if index == len(self.first) - 1 else blocks
            state[id(first)][where] = 0.0
            state[id(second)][where] = rule["v_start"]
        state[id(self.units)][blocks] = real.reshape(count, 1, BLOCK)
        for name, mask in self.activation_masks.items():
            state[id(mask)][blocks] = float(hidden.activation == name)
        state[id(self.l2[0])][slot], state[id(self.l2[1])][slot] = hidden.l2, output.l2
        for name, variable in self.rule.items():
            state[id(variable)][slot] = rule[name]
        state[id(self.iterations)][slot] = 0.0

    def _per_block(self, values: tf.Tensor, free: float = 0.0) -> tf.Tensor:
        """``[size]`` values as ``[blocks]``, a free block's being ``free``."""
        return tf.gather(tf.concat([values, tf.fill([1], free)], 0), self.owner)

    def _by_member(self, per_block: tf.Tensor) -> tf.Tensor:
        """Block values summed per slot: ``[blocks, ...]`` to ``[size, ...]``."""
        return tf.math.unsorted_segment_sum(per_block, self.owner, self.shape.size + 1)[:-1]

    def logits(self, x: tf.Tensor, training: bool) -> tf.Tensor:
        """``[K, B, classes]`` logits of ``[K, B, features]`` inputs: each block reads its
        slot's rows (a free block reads the last slot's; its outputs are dropped)."""
        del training  # no dropout in this layout
        x = tf.gather(x, tf.minimum(self.owner, self.shape.size - 1))
        net = tf.einsum("nbi,niu->nbu", x, self.kernels[0]) + self.biases[0]
        names = self.shape.activations
        if len(names) == 1:
            hidden = ACTIVATIONS[names[0]](net)
        else:
            masks = self.activation_masks
            hidden = tf.add_n([masks[name] * ACTIVATIONS[name](net) for name in names])
        per_block = tf.einsum("nbu,nuc->nbc", hidden * self.units, self.kernels[1])
        return self._by_member(per_block) + self.biases[1][:, None, :]

    def penalties(self) -> tf.Tensor:
        """Each slot's L2 terms over its own blocks, as Keras adds them to the loss."""
        hidden = self._by_member(tf.reduce_sum(tf.square(self.kernels[0]), axis=[1, 2]))
        output = self._by_member(tf.reduce_sum(tf.square(self.kernels[1]), axis=[1, 2]))
        return self.l2[0] * hidden + self.l2[1] * output

    def _apply(self, gradients, on) -> None:
        """:func:`~tfnn.tuning.pack_network.optimizer_rule`'s update, each slot's
        coefficients spread over its own units, blocks and output bias."""
        rule, off = self.rule, 1.0 - on
        step = self.iterations + on
        size = on * rule["learning_rate"] * tf.sqrt(1.0 - tf.pow(rule["p2"], step))
        size = size / (1.0 - tf.pow(rule["p1"], step))
        per_slot = {
            "size": size,
            "m_decay": on * rule["m_decay"] + off,
            "m_gain": on * rule["m_gain"],
            "v_decay": on * rule["v_decay"] + off,
            "v_gain": on * rule["v_gain"],
            "v_scale": rule["v_scale"],
            "v_shift": rule["v_shift"],
            "epsilon": rule["epsilon"],
        }
        by_block = lambda values, free: self._per_block(values, free)[:, None, None]  # noqa: E731
        spread = [by_block, by_block, by_block, lambda values, free: values[:, None]]
        for variable, gradient, first, second, to_shape in zip(
            self.variables, gradients, self.first, self.second, spread, strict=True
        ):
            # A free block divides by √(0·v + 1), as an empty slot does (EMPTY_RULE).
            c = {
                name: to_shape(values, EMPTY_RULE[name] if name == "v_shift" else 0.0)
                for name, values in per_slot.items()
            }
            m = c["m_decay"] * first + c["m_gain"] * gradient
            v = c["v_decay"] * second + c["v_gain"] * tf.square(gradient)
            first.assign(m)
            second.assign(v)
            denominator = tf.sqrt(c["v_scale"] * v + c["v_shift"]) + c["epsilon"]
            variable.assign_sub(c["size"] * m / denominator)
        self.iterations.assign(step)
