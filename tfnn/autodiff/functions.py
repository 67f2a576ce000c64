"""The assignments' functions, each next to its gradient derived by hand.

Every function is a ``tf.function`` so its op graph can be drawn in TensorBoard. The
``*_gradient`` and ``*_backward`` functions are the hand derivations written as code;
:mod:`tfnn.autodiff.checks` compares them with ``tf.GradientTape`` and finite differences.

Sources: CS-587 (sin(x)/x, ax² + bxy + cy², log(1 + eˣ)), EECE 8740 HW1
(σ(x1·w1 + max(x2, w2))) and VU Deep Learning assignment 2 (backward rules of X/Y,
f(X), XW, expand and a ReLU op).
"""

from __future__ import annotations

import math
from typing import NamedTuple

import tensorflow as tf

# sin(x)/x = Σ_k (-1)^k x^(2k) / (2k+1)!. Below this radius six terms are exact to float64
# rounding (the first dropped term is x^12/13! < 1e-22) and x·cos(x) - sin(x) would
# otherwise lose digits to cancellation in the gradient.
_SINC_SERIES_RADIUS = 0.1
_SINC_SERIES = tuple((-1) ** k / math.factorial(2 * k + 1) for k in range(6))


def _polynomial_in_square(x: tf.Tensor, coefficients: tuple[float, ...]) -> tf.Tensor:
    """Evaluates Σ_k coefficients[k]·x^(2k) by Horner's rule."""
    square = x * x
    result = tf.fill(tf.shape(x), tf.constant(coefficients[-1], x.dtype))
    for coefficient in reversed(coefficients[:-1]):
        result = result * square + coefficient
    return result


@tf.function
def sinc(x: tf.Tensor) -> tf.Tensor:
    """F(x) = sin(x)/x, with the limit F(0) = 1 and F'(0) = 0 free of NaN."""
    near_zero = tf.abs(x) < _SINC_SERIES_RADIUS
    # Double where: the division only ever sees x away from 0. With a single where the
    # unused branch's gradient at 0 is NaN, and NaN·0 stays NaN in the tape gradient.
    safe_x = tf.where(near_zero, tf.ones_like(x), x)
    return tf.where(near_zero, _polynomial_in_square(x, _SINC_SERIES), tf.sin(safe_x) / safe_x)


@tf.function
def sinc_gradient(x: tf.Tensor) -> tf.Tensor:
    """F'(x) = cos(x)/x - sin(x)/x², and the derivative of the series near 0."""
    near_zero = tf.abs(x) < _SINC_SERIES_RADIUS
    safe_x = tf.where(near_zero, tf.ones_like(x), x)
    far = tf.cos(safe_x) / safe_x - tf.sin(safe_x) / (safe_x * safe_x)
    # d/dx Σ c_k x^(2k) = x · Σ_{k≥1} 2k·c_k·x^(2(k-1)).
    series = tuple(2 * k * _SINC_SERIES[k] for k in range(1, len(_SINC_SERIES)))
    return tf.where(near_zero, x * _polynomial_in_square(x, series), far)


@tf.function
def quadratic_form(
    x: tf.Tensor, y: tf.Tensor, a: tf.Tensor, b: tf.Tensor, c: tf.Tensor
) -> tf.Tensor:
    """f(x, y) = a·x² + b·x·y + c·y²."""
    return a * x * x + b * x * y + c * y * y


@tf.function
def quadratic_form_gradient(
    x: tf.Tensor, y: tf.Tensor, a: tf.Tensor, b: tf.Tensor, c: tf.Tensor
) -> tuple[tf.Tensor, tf.Tensor]:
    """(∂f/∂x, ∂f/∂y) = (2ax + by, bx + 2cy)."""
    return 2 * a * x + b * y, b * x + 2 * c * y


@tf.function
def softplus(x: tf.Tensor) -> tf.Tensor:
    """F(x) = log(1 + eˣ) as max(x, 0) + log1p(exp(-|x|)): finite for any finite x.

    max and |·| are written as wheres because their tape gradients at the tie x = 0 are
    1 and 0, which would give F'(0) = 1 instead of 1/2 and F''(0) = 0 instead of 1/4.
    """
    non_negative = x >= 0
    positive_part = tf.where(non_negative, x, tf.zeros_like(x))
    minus_absolute = tf.where(non_negative, -x, x)
    return positive_part + tf.math.log1p(tf.exp(minus_absolute))


@tf.function
def softplus_gradient(x: tf.Tensor) -> tf.Tensor:
    """F'(x) = eˣ/(1 + eˣ) = σ(x), via e^(-|x|) so nothing overflows."""
    small_exponential = tf.exp(-tf.abs(x))
    return tf.where(
        x >= 0, 1 / (1 + small_exponential), small_exponential / (1 + small_exponential)
    )


@tf.function
def softplus_second_derivative(x: tf.Tensor) -> tf.Tensor:
    """F''(x) = σ(x)(1 - σ(x)), written σ(x)·σ(-x) because 1 - σ(x) cancels for x ≫ 0."""
    return softplus_gradient(x) * softplus_gradient(-x)


@tf.function
def softplus_derivatives(x: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor]:
    """F, F' and F'' of :func:`softplus` from nested gradient tapes."""
    with tf.GradientTape() as outer_tape:
        outer_tape.watch(x)
        with tf.GradientTape() as inner_tape:
            inner_tape.watch(x)
            # The Python body, not the tf.function, so the graph shows every op inline.
            value = softplus.python_function(x)
        first = inner_tape.gradient(value, x)
    second = outer_tape.gradient(first, x)
    return value, first, second


@tf.function
def eece_graph(x1: tf.Tensor, w1: tf.Tensor, x2: tf.Tensor, w2: tf.Tensor) -> tf.Tensor:
    """y = σ(x1·w1 + max(x2, w2)), the EECE 8740 HW1 graph."""
    return tf.sigmoid(x1 * w1 + tf.maximum(x2, w2))


@tf.function
def eece_gradient(
    x1: tf.Tensor, w1: tf.Tensor, x2: tf.Tensor, w2: tf.Tensor
) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor]:
    """(∂y/∂x1, ∂y/∂w1, ∂y/∂x2, ∂y/∂w2) by the backward pass of the graph.

    The product swaps its inputs and max routes the whole upstream gradient to the
    larger input (to x2 on a tie, as TensorFlow does).
    """
    y = tf.sigmoid(x1 * w1 + tf.maximum(x2, w2))
    upstream = y * (1 - y)
    to_x2 = tf.cast(x2 >= w2, y.dtype)
    return upstream * w1, upstream * x1, upstream * to_x2, upstream * (1 - to_x2)


# The EECE example's inputs.
EECE_POINT = {"x1": 0.7, "w1": -1.5, "x2": 0.34, "w2": -0.35}


class Erratum(NamedTuple):
    """One number a report gets wrong, with the value recomputed here."""

    quantity: str
    report_value: float
    correct_value: float
    why: str


# Each correct value is recomputed by tests/test_autodiff.py (tape and finite differences).
REPORT_ERRATA: tuple[Erratum, ...] = (
    Erratum(
        "x1·w1 in the forward pass",
        -10.5,
        -1.05,
        "0.7 × (-1.5) = -1.05; the next line (-0.71) already uses -1.05, so a typo",
    ),
    Erratum(
        "∂y/∂x1",
        0.3314,
        -0.3314,
        "σ'(z)·w1 = 0.2210 × (-1.5) is negative; the report drops the sign",
    ),
    Erratum(
        "∂y/∂x2",
        0.34,
        0.2210,
        "x2 = 0.34 > w2 = -0.35, so max routes σ'(z)·1 to x2; 0.34 is x2's value",
    ),
)

# VU assignment 2, equation (0.2).
VU_REPORT_ERRATA: tuple[Erratum, ...] = (
    Erratum(
        "sign of ∂loss/∂Y for f = X/Y",
        1.0,
        -1.0,
        "∂(X/Y)/∂Y = -X/Y², so ∂loss/∂Y = -G·X/Y²; the report writes +G·X/Y²",
    ),
)


@tf.function
def divide(x: tf.Tensor, y: tf.Tensor) -> tf.Tensor:
    """Element-wise X / Y."""
    return x / y


@tf.function
def divide_backward(x: tf.Tensor, y: tf.Tensor, upstream: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
    """(∂/∂X, ∂/∂Y) = (G / Y, -G·X / Y²) for upstream gradient G."""
    return upstream / y, -upstream * x / (y * y)


@tf.function
def elementwise_tanh(x: tf.Tensor) -> tf.Tensor:
    """Element-wise f(X) = tanh(X)."""
    return tf.tanh(x)


@tf.function
def elementwise_tanh_backward(x: tf.Tensor, upstream: tf.Tensor) -> tf.Tensor:
    """∂/∂X = G ⊙ f'(X) = G ⊙ (1 - tanh²(X))."""
    return upstream * (1 - tf.tanh(x) ** 2)


@tf.function
def matmul(x: tf.Tensor, w: tf.Tensor) -> tf.Tensor:
    """X·W for X of shape (n, f) and W of shape (f, o)."""
    return tf.matmul(x, w)


@tf.function
def matmul_backward(x: tf.Tensor, w: tf.Tensor, upstream: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
    """(∂/∂X, ∂/∂W) = (G·Wᵀ, Xᵀ·G)."""
    return tf.matmul(upstream, w, transpose_b=True), tf.matmul(x, upstream, transpose_a=True)


@tf.function
def expand(x: tf.Tensor, copies: tf.Tensor) -> tf.Tensor:
    """Repeats ``x`` along a new last axis ``copies`` times (a vector becomes columns)."""
    shape = tf.concat([tf.shape(x), tf.reshape(copies, [1])], axis=0)
    return tf.broadcast_to(x[..., tf.newaxis], shape)


@tf.function
def expand_backward(upstream: tf.Tensor) -> tf.Tensor:
    """∂/∂x = Σ_j G[..., j]: every copy's gradient flows back to the one source."""
    return tf.reduce_sum(upstream, axis=-1)


@tf.function
def relu_backward(x: tf.Tensor, upstream: tf.Tensor) -> tf.Tensor:
    """∂/∂X = G ⊙ [X > 0] (0 at X = 0, as ``tf.nn.relu``)."""
    return upstream * tf.cast(x > 0, upstream.dtype)


@tf.custom_gradient
def _relu_with_hand_gradient(x: tf.Tensor):
    def backward(upstream: tf.Tensor) -> tf.Tensor:
        return relu_backward(x, upstream)

    return tf.where(x > 0, x, tf.zeros_like(x)), backward


@tf.function
def custom_relu(x: tf.Tensor) -> tf.Tensor:
    """ReLU whose tape gradient is :func:`relu_backward` (``tf.custom_gradient``)."""
    return _relu_with_hand_gradient(x)
