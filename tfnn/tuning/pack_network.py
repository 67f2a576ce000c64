"""K dense networks of one depth as one stacked network: the math of a pack.

A pack is read off the models the training command's builder returns (``build_mlp``:
dense → activation [→ dropout] … → dense → softmax) and off their compiled Keras
optimizers, so it has no second definition of the network: every member's layer ``l``
becomes slice ``k`` of one ``[K, fan_in, fan_out]`` kernel, padded with zero units up
to the widest member and masked so padding stays zero, and every update follows the
member's own Keras optimizer (its class and config). One step then costs about what
one member's step costs: the ops run once for all K, and per-op overhead, not
arithmetic, is what a small network's step is made of.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence

import keras
import tensorflow as tf

ACTIVATIONS = {
    "linear": tf.identity,
    "relu": tf.nn.relu,
    "sigmoid": tf.sigmoid,
    "tanh": tf.tanh,
    "elu": tf.nn.elu,
    "softplus": tf.nn.softplus,
    "selu": tf.nn.selu,
}


class PackError(ValueError):
    """The model or its optimizer is one a pack cannot reproduce exactly."""


@dataclasses.dataclass(frozen=True)
class DenseLayer:
    """One dense layer of a member, as the builder made it."""

    kernel: tf.Tensor
    bias: tf.Tensor
    activation: str = "linear"
    l2: float = 0.0
    dropout: float = 0.0


def dense_layers(model: keras.Model) -> list[DenseLayer]:
    """``model`` read as a chain of dense layers; the last one's activation is softmax.

    Raises:
        PackError: A layer other than input, flatten, dense, activation or dropout.
    """
    found: list[dict] = []
    for layer in model.layers:
        if isinstance(layer, keras.layers.InputLayer | keras.layers.Flatten):
            continue
        if isinstance(layer, keras.layers.Dense):
            regularizer = layer.kernel_regularizer
            if regularizer is not None and not isinstance(regularizer, keras.regularizers.L2):
                raise PackError(f"layer {layer.name}: only L2 kernel regularizers pack")
            if layer.bias_regularizer is not None or not layer.use_bias:
                raise PackError(f"layer {layer.name}: needs a bias without regularizer")
            found.append(
                {
                    "kernel": layer.kernel.value,
                    "bias": layer.bias.value,
                    "activation": layer.activation.__name__,
                    "l2": float(regularizer.l2) if regularizer is not None else 0.0,
                }
            )
        elif isinstance(layer, keras.layers.Activation) and found:
            if found[-1]["activation"] != "linear":
                raise PackError(f"layer {layer.name}: two activations in a row")
            found[-1]["activation"] = layer.activation.__name__
        elif isinstance(layer, keras.layers.Dropout) and found:
            found[-1]["dropout"] = float(layer.rate)
        else:
            raise PackError(f"layer {layer.name} ({type(layer).__name__}) does not pack")
    if not found or found[-1]["activation"] != "softmax":
        raise PackError("the model must end in a dense layer with a softmax")
    for index, values in enumerate(found[:-1]):
        if values["activation"] not in ACTIVATIONS:
            raise PackError(f"hidden layer {index + 1}: activation {values['activation']!r}")
    found[-1]["activation"] = "linear"  # the loss reads the logits, as Keras does
    return [DenseLayer(**values) for values in found]


def _power_of_two(count: int) -> int:
    return 1 << max(0, count - 1).bit_length()


def _power_of_four(count: int) -> int:
    """Widths round up to 4, 16, 64, 256, 1024 ...: few shapes, so few compiles."""
    return 1 << 2 * math.ceil(max(1, count - 1).bit_length() / 2)


def optimizer_rule(optimizer: keras.optimizers.Optimizer) -> dict[str, float]:
    """A Keras optimizer's update as the coefficients of one rule that covers them all:

        m = m_decay·m + m_gain·g;  v = v_decay·v + v_gain·g²
        w -= lr·√(1 − p2ᵗ)/(1 − p1ᵗ) · m / (√(v_scale·v + v_shift) + epsilon)

    SGD is (m = g, denominator 1); momentum keeps m = μ·m + g (Keras keeps −lr·m);
    Adam, RMSprop and Adagrad are their Keras formulas. One rule means one program
    for members with different optimizers.

    Raises:
        PackError: An optimizer or option the rule does not cover.
    """
    config = optimizer.get_config()
    if any(config.get(name) for name in ("clipnorm", "clipvalue", "global_clipnorm")):
        raise PackError("gradient clipping does not pack")
    if config.get("weight_decay") or config.get("use_ema"):
        raise PackError("weight decay and EMA do not pack")
    rate = config["learning_rate"]
    if not isinstance(rate, float | int):
        raise PackError("learning-rate schedules do not pack")
    plain = sgd_rule(float(rate))
    name = type(optimizer).__name__
    if name == "SGD" and not config["nesterov"]:
        return plain | {"m_decay": float(config["momentum"])}
    if name == "Adam" and not config["amsgrad"]:
        beta_1, beta_2 = config["beta_1"], config["beta_2"]
        return plain | {
            "m_decay": beta_1, "m_gain": 1 - beta_1, "v_decay": beta_2, "v_gain": 1 - beta_2,
            "v_scale": 1.0, "v_shift": 0.0, "epsilon": config["epsilon"],
            "p1": beta_1, "p2": beta_2,
        }  # fmt: skip
    if name == "RMSprop" and not config["centered"] and not config["momentum"]:
        rho = config["rho"]
        return plain | {
            "v_decay": rho, "v_gain": 1 - rho, "v_scale": 1.0, "v_shift": config["epsilon"]
        }  # fmt: skip
    if name == "Adagrad":
        return plain | {
            "v_decay": 1.0, "v_gain": 1.0, "v_start": config["initial_accumulator_value"],
            "v_scale": 1.0, "v_shift": config["epsilon"],
        }  # fmt: skip
    raise PackError(f"optimizer {name} with these settings does not pack")


def sgd_rule(learning_rate: float) -> dict[str, float]:
    """Plain SGD in :func:`optimizer_rule`'s terms: m = g, a denominator of 1."""
    rule = {"m_decay": 0.0, "m_gain": 1.0, "v_decay": 0.0, "v_gain": 0.0, "v_start": 0.0}
    rule |= {"v_scale": 0.0, "v_shift": 1.0, "epsilon": 0.0, "p1": 0.0, "p2": 0.0}
    return rule | {"learning_rate": learning_rate}


# An empty slot: SGD with step 0, so it never changes. (Not read off a Keras optimizer:
# making one at import would start TensorFlow's runtime, after which a user can no
# longer set its threads.)
EMPTY_RULE = sgd_rule(0.0)
RULE_FIELDS = tuple(EMPTY_RULE)


@dataclasses.dataclass(frozen=True)
class PackShape:
    """What fixes a pack's program: members, layer widths (padded), activations, dropout.

    Packs of one shape run the same traced program with other values loaded.
    """

    size: int
    widths: tuple[int, ...]
    activations: tuple[str, ...]
    dropout: bool

    @classmethod
    def of(cls, models: Sequence[keras.Model], size: int = 0) -> PackShape:
        """The shape holding ``models``: hidden widths rounded up to powers of two, so
        packs of similar members share one program; ``size`` members (0: just enough)."""
        members = [dense_layers(model) for model in models]
        depths = {len(layers) for layers in members}
        if len(depths) != 1:
            raise PackError(f"members of one pack need one depth, got {sorted(depths)}")
        depth = depths.pop()
        widths = [max(int(layers[0].kernel.shape[0]) for layers in members)]
        for index in range(depth):
            widest = max(int(layers[index].kernel.shape[1]) for layers in members)
            widths.append(widest if index == depth - 1 else _power_of_four(widest))
        names = {layer.activation for layers in members for layer in layers[:-1]}
        dropout = any(layer.dropout for layers in members for layer in layers)
        return cls(size or _power_of_two(len(models)), tuple(widths), tuple(sorted(names)), dropout)

    @property
    def weights(self) -> int:
        """Kernel entries of all slots: what a step's arithmetic scales with."""
        pairs = zip(self.widths[:-1], self.widths[1:], strict=True)
        return self.size * sum(fan_in * fan_out for fan_in, fan_out in pairs)

    def covers(self, other: PackShape) -> bool:
        """Whether this shape's program can train ``other``'s members: at least as many
        slots, the same inputs, classes and depth, layers at least as wide, their
        activations and dropout (zero-padded units, unused activations and empty slots
        change no number)."""
        return (
            isinstance(other, PackShape)
            and self.size >= other.size
            and len(self.widths) == len(other.widths)
            and (self.widths[0], self.widths[-1]) == (other.widths[0], other.widths[-1])
            and all(mine >= theirs for mine, theirs in zip(self.widths, other.widths, strict=True))
            and set(other.activations) <= set(self.activations)
            and (self.dropout or not other.dropout)
        )


class MemberSteps:
    """The loss and training step of a network of K members: its ``logits``, each
    member's ``penalties`` and its ``_apply`` of the update rule."""

    def losses(self, x: tf.Tensor, y: tf.Tensor, weights: tf.Tensor, training: bool):
        """Per member: (mean cross-entropy + L2 as Keras adds it, correct count,
        samples); ``weights`` ([K, B]) marks each member's real rows."""
        logits = self.logits(x, training)
        y = tf.broadcast_to(y, tf.shape(logits)[:2])  # labels shared by every member
        entropy = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits)
        samples = tf.reduce_sum(weights, axis=1)
        loss = tf.reduce_sum(entropy * weights, axis=1) / tf.maximum(samples, 1.0)
        loss += self.penalties()
        hits = tf.cast(tf.equal(tf.argmax(logits, -1, output_type=y.dtype), y), tf.float32)
        return loss, tf.reduce_sum(hits * weights, axis=1), samples

    def train_step(self, x, y, weights, active):
        """One step for the members where ``active`` ([K] bool); returns ``losses``."""
        with tf.GradientTape() as tape:
            loss, correct, samples = self.losses(x, y, weights, training=True)
            total = tf.reduce_sum(loss)
        gradients = tape.gradient(total, self.variables)
        self._apply(gradients, tf.cast(active, tf.float32))
        return loss, correct, samples


class PackedNetwork(MemberSteps):
    """The stacked variables and the training step of one :class:`PackShape`.

    :meth:`load` puts members in (the builder's weights, zero-padded; their optimizer
    coefficients); slots beyond the members stay inactive.

    Args:
        shape: What the variables hold.
        state: Another network's :attr:`state` to work on instead of new variables:
            a traced program takes the variables as arguments, so that one program
            (one trace, one XLA compile) serves every network of its shape.
    """

    def __init__(self, shape: PackShape, state: dict | None = None):
        self.shape = shape
        self.state = state if state is not None else self._new_state(shape)
        state = self.state
        self.kernels, self.biases, self.units = state["kernels"], state["biases"], state["units"]
        self.activation_masks, self.dropout = state["activation_masks"], state["dropout"]
        self.l2, self.rule = state["l2"], state["rule"]
        self.first, self.second = state["first"], state["second"]
        self.iterations, self.seed = state["iterations"], state["seed"]
        self.variables = [
            var for pair in zip(self.kernels, self.biases, strict=True) for var in pair
        ]

    @staticmethod
    def _new_state(shape: PackShape) -> dict:
        size, widths = shape.size, shape.widths
        kernels = [
            tf.Variable(tf.zeros([size, widths[i], widths[i + 1]])) for i in range(len(widths) - 1)
        ]
        biases = [tf.Variable(tf.zeros([size, 1, width])) for width in widths[1:]]
        weights = [var for pair in zip(kernels, biases, strict=True) for var in pair]
        return {
            "kernels": kernels,
            "biases": biases,
            "units": [tf.Variable(tf.zeros([size, 1, width])) for width in widths[1:-1]],
            "activation_masks": {
                name: [tf.Variable(tf.zeros([size, 1, 1])) for _ in widths[1:-1]]
                for name in shape.activations
            },
            "dropout": [tf.Variable(tf.zeros([size, 1, 1])) for _ in widths[1:-1]],
            "l2": [tf.Variable(tf.zeros([size])) for _ in widths[1:]],
            "rule": {name: tf.Variable(tf.zeros([size, 1, 1])) for name in RULE_FIELDS},
            "first": [tf.Variable(tf.zeros_like(var)) for var in weights],
            "second": [tf.Variable(tf.zeros_like(var)) for var in weights],
            "iterations": tf.Variable(tf.zeros([size, 1, 1])),
            "seed": tf.Variable(tf.zeros([2], tf.int64)),
        }

    def load(self, slots: dict[int, keras.Model | None]) -> None:
        """Puts each model into its slot (None empties the slot) with fresh optimizer
        state; other slots keep training where they are."""
        state = {id(var): var.numpy() for var in self._all_variables()}
        for slot, model in slots.items():
            self._write_slot(state, slot, model)
        for var in self._all_variables():
            var.assign(state[id(var)])

    def seed_dropout(self, seed: int) -> None:
        """Starts the dropout masks' stream (once a pack: a refill must not replay it)."""
        self.seed.assign([seed, 0])

    def _all_variables(self) -> list[tf.Variable]:
        masks = [mask for masks in self.activation_masks.values() for mask in masks]
        return [
            *self.variables, *self.units, *masks, *self.dropout, *self.l2,
            *self.rule.values(), *self.first, *self.second, self.iterations,
        ]  # fmt: skip

    def _write_slot(self, state: dict, slot: int, model: keras.Model | None) -> None:
        layers = dense_layers(model) if model is not None else []
        rule = optimizer_rule(model.optimizer) if model is not None else EMPTY_RULE
        for index, (kernel, bias) in enumerate(zip(self.kernels, self.biases, strict=True)):
            kernels, biases = state[id(kernel)][slot], state[id(bias)][slot]
            kernels[:] = 0.0
            biases[:] = 0.0
            state[id(self.l2[index])][slot] = layers[index].l2 if layers else 0.0
            if layers:
                fan_in, fan_out = layers[index].kernel.shape
                kernels[:fan_in, :fan_out] = layers[index].kernel
                biases[0, :fan_out] = layers[index].bias
        for index, units in enumerate(self.units):
            row = state[id(units)][slot]
            row[:] = 0.0
            if layers:
                row[0, : int(layers[index].kernel.shape[1])] = 1.0
            for name, masks in self.activation_masks.items():
                state[id(masks[index])][slot] = bool(layers) and layers[index].activation == name
            state[id(self.dropout[index])][slot] = layers[index].dropout if layers else 0.0
        for name, variable in self.rule.items():
            state[id(variable)][slot] = rule[name]
        for first, second in zip(self.first, self.second, strict=True):
            state[id(first)][slot] = 0.0
            state[id(second)][slot] = rule["v_start"]
        state[id(self.iterations)][slot] = 0.0

    def logits(self, x: tf.Tensor, training: bool) -> tf.Tensor:
        """``[K, B, classes]`` logits of ``[K, B, features]`` inputs, or of ``[B, features]``
        inputs every member shares (one wide matrix product instead of K small ones)."""
        hidden = x
        for index, (kernel, bias) in enumerate(zip(self.kernels, self.biases, strict=True)):
            if hidden.shape.rank == 2:
                net = tf.einsum("bi,kio->kbo", hidden, kernel) + bias
            else:
                net = tf.einsum("kbi,kio->kbo", hidden, kernel) + bias
            if index == len(self.kernels) - 1:
                return net
            names = self.shape.activations
            if len(names) == 1:
                hidden = ACTIVATIONS[names[0]](net)
            else:
                masks = self.activation_masks
                hidden = tf.add_n([masks[name][index] * ACTIVATIONS[name](net) for name in names])
            hidden = hidden * self.units[index]
            if training and self.shape.dropout:
                self.seed.assign_add([0, 1])
                noise = tf.random.stateless_uniform(tf.shape(hidden), self.seed)
                rate = self.dropout[index]
                hidden = tf.where(noise >= rate, hidden / (1.0 - rate), 0.0)
        raise AssertionError("a pack has at least one layer")

    def penalties(self) -> tf.Tensor:
        """Each member's L2 terms, as Keras adds them to the loss."""
        return tf.add_n(
            [
                l2 * tf.reduce_sum(tf.square(kernel), axis=[1, 2])
                for l2, kernel in zip(self.l2, self.kernels, strict=True)
            ]
        )

    def _apply(self, gradients, on) -> None:
        """The rule, gated by coefficients: an inactive member's step size is 0 and its
        moments decay by 1 and gain 0, so nothing of it changes (no select over the
        weights, the cost of which is that of the update itself)."""
        rule, on = self.rule, tf.reshape(on, [-1, 1, 1])
        off = 1.0 - on
        step = self.iterations + on
        size = on * rule["learning_rate"] * tf.sqrt(1.0 - tf.pow(rule["p2"], step))
        size = size / (1.0 - tf.pow(rule["p1"], step))
        m_decay, m_gain = on * rule["m_decay"] + off, on * rule["m_gain"]
        v_decay, v_gain = on * rule["v_decay"] + off, on * rule["v_gain"]
        for variable, gradient, first, second in zip(
            self.variables, gradients, self.first, self.second, strict=True
        ):
            m = m_decay * first + m_gain * gradient
            v = v_decay * second + v_gain * tf.square(gradient)
            first.assign(m)
            second.assign(v)
            denominator = tf.sqrt(rule["v_scale"] * v + rule["v_shift"]) + rule["epsilon"]
            variable.assign_sub(size * m / denominator)
        self.iterations.assign(step)
