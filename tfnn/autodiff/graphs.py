"""Draws every function's op graph for TensorBoard and prints the gradient-check table."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import tensorflow as tf

from tfnn.autodiff import functions
from tfnn.autodiff.checks import GradientCheck, compare, finite_difference_gradients, format_table
from tfnn.tensorboard.graph import write_function_graph

_SCALAR = tf.TensorSpec([], tf.float64)
_MATRIX = tf.TensorSpec([None, None], tf.float64)
_VECTOR = tf.TensorSpec([None], tf.float64)

# Each graph gets its own run directory so TensorBoard lists them side by side.
GRAPH_SIGNATURES: dict[str, tuple[tf.types.experimental.GenericFunction, tuple]] = {
    "sinc": (functions.sinc, (_SCALAR,)),
    "quadratic_form": (functions.quadratic_form, (_SCALAR,) * 5),
    "softplus": (functions.softplus, (_SCALAR,)),
    "softplus_derivatives": (functions.softplus_derivatives, (_SCALAR,)),
    "eece_graph": (functions.eece_graph, (_SCALAR,) * 4),
    "divide": (functions.divide, (_MATRIX, _MATRIX)),
    "elementwise_tanh": (functions.elementwise_tanh, (_MATRIX,)),
    "matmul": (functions.matmul, (_MATRIX, _MATRIX)),
    "expand": (functions.expand, (_VECTOR, tf.TensorSpec([], tf.int32))),
    "custom_relu": (functions.custom_relu, (_MATRIX,)),
}

SINC_POINTS = (10.0, 0.0, 0.05, 0.5, -3.0)
SOFTPLUS_POINTS = (-1000.0, -20.0, 0.0, 2.5, 1000.0)
QUADRATIC_COEFFICIENTS = {"a": 1.5, "b": -2.0, "c": 0.5}
QUADRATIC_POINT = {"x": 1.2, "y": -0.7}
EXPAND_COPIES = 16


def write_graphs(logdir: str | os.PathLike) -> dict[str, Path]:
    """Writes each function's graph into ``logdir/<function name>/``.

    Returns:
        The run directory of each function, by name.
    """
    directories = {}
    for name, (function, signature) in GRAPH_SIGNATURES.items():
        directories[name] = Path(logdir) / name
        write_function_graph(directories[name], function, *signature)
    return directories


def _scalar(value: float) -> tf.Tensor:
    return tf.constant(value, tf.float64)


def _sinc_checks() -> list[GradientCheck]:
    return [
        row
        for x in SINC_POINTS
        for row in compare(
            "sin(x)/x", functions.sinc, [x], [functions.sinc_gradient(_scalar(x))], ["x"]
        )
    ]


def _quadratic_checks() -> list[GradientCheck]:
    a, b, c = (_scalar(value) for value in QUADRATIC_COEFFICIENTS.values())
    x, y = QUADRATIC_POINT["x"], QUADRATIC_POINT["y"]
    label = "a·x²+b·xy+c·y² (a,b,c=1.5,-2,0.5)"
    return compare(
        label,
        lambda x, y: functions.quadratic_form(x, y, a, b, c),
        [x, y],
        functions.quadratic_form_gradient(_scalar(x), _scalar(y), a, b, c),
        ["x", "y"],
    )


def _softplus_checks() -> list[GradientCheck]:
    rows = []
    for x in SOFTPLUS_POINTS:
        rows += compare(
            "log(1+e^x)", functions.softplus, [x], [functions.softplus_gradient(_scalar(x))], ["x"]
        )
        value, _, second = functions.softplus_derivatives(_scalar(x))
        (finite_second,) = finite_difference_gradients(functions.softplus_gradient, [x])
        rows.append(
            GradientCheck(
                function="log(1+e^x)",
                variable="d2/dx2",
                point=f"x={x:.6g}",
                value=value.numpy(),
                hand=functions.softplus_second_derivative(_scalar(x)).numpy(),
                tape=second.numpy(),
                finite_difference=finite_second,
            )
        )
    return rows


def _eece_checks() -> list[GradientCheck]:
    point = [functions.EECE_POINT[name] for name in ("x1", "w1", "x2", "w2")]
    return compare(
        "σ(x1·w1+max(x2,w2))",
        functions.eece_graph,
        point,
        functions.eece_gradient(*(_scalar(value) for value in point)),
        ["x1", "w1", "x2", "w2"],
    )


def tensor_rule_checks(seed: int = 0) -> list[GradientCheck]:
    """The VU backward rules on random float64 tensors with a random upstream gradient."""
    random = np.random.default_rng(seed)
    x = random.normal(size=(3, 4))
    # Keep Y away from 0 so X/Y and its finite differences stay well conditioned.
    y = random.uniform(0.5, 2.0, size=(3, 4)) * random.choice([-1.0, 1.0], size=(3, 4))
    w = random.normal(size=(4, 5))
    vector = random.normal(size=(6,))
    # ReLU is checked away from its kink, where the finite difference is meaningful.
    relu_input = random.uniform(0.05, 1.0, size=(3, 4)) * random.choice([-1.0, 1.0], size=(3, 4))
    upstream_3x4 = random.normal(size=(3, 4))
    upstream_3x5 = random.normal(size=(3, 5))
    upstream_expand = random.normal(size=(6, EXPAND_COPIES))

    def tensor(array: np.ndarray) -> tf.Tensor:
        return tf.constant(array, tf.float64)

    copies = tf.constant(EXPAND_COPIES, tf.int32)
    relu_hand = [functions.relu_backward(tensor(relu_input), tensor(upstream_3x4))]
    return [
        *compare(
            "X/Y",
            functions.divide,
            [x, y],
            functions.divide_backward(tensor(x), tensor(y), tensor(upstream_3x4)),
            ["X", "Y"],
            upstream_3x4,
        ),
        *compare(
            "tanh(X)",
            functions.elementwise_tanh,
            [x],
            [functions.elementwise_tanh_backward(tensor(x), tensor(upstream_3x4))],
            ["X"],
            upstream_3x4,
        ),
        *compare(
            "X·W",
            functions.matmul,
            [x, w],
            functions.matmul_backward(tensor(x), tensor(w), tensor(upstream_3x5)),
            ["X", "W"],
            upstream_3x5,
        ),
        *compare(
            f"expand(x, {EXPAND_COPIES})",
            lambda vector: functions.expand(vector, copies),
            [vector],
            [functions.expand_backward(tensor(upstream_expand))],
            ["x"],
            upstream_expand,
        ),
        *compare(
            "custom_relu(X)", functions.custom_relu, [relu_input], relu_hand, ["X"], upstream_3x4
        ),
        *compare("tf.nn.relu(X)", tf.nn.relu, [relu_input], relu_hand, ["X"], upstream_3x4),
    ]


def gradient_checks(seed: int = 0) -> list[GradientCheck]:
    """Every function's hand gradient against the tape and finite differences.

    Args:
        seed: Seed of the random tensors and upstream gradients of the tensor rules.
    """
    return [
        *_sinc_checks(),
        *_quadratic_checks(),
        *_softplus_checks(),
        *_eece_checks(),
        *tensor_rule_checks(seed),
    ]


def run_graphs(logdir: str | os.PathLike, seed: int = 0, echo: bool = True) -> list[GradientCheck]:
    """Writes every function's graph under ``logdir`` and checks every gradient.

    Args:
        logdir: Parent directory; each function's graph goes to ``logdir/<name>/``.
        seed: Seed of the random tensors of the tensor rules.
        echo: Whether to print the comparison table.

    Returns:
        One :class:`GradientCheck` per derivative, in table order.
    """
    write_graphs(logdir)
    rows = gradient_checks(seed)
    if echo:
        print(format_table(rows))
    return rows
