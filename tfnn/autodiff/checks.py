"""Gradient checks: hand-derived vs ``tf.GradientTape`` vs central finite differences.

A function with a non-scalar output is checked through the scalar L = Σ G ⊙ f(...) for a
fixed upstream gradient G, so the gradient of L is exactly the backward rule applied to G.
All arithmetic is float64: central differences then agree to about 1e-9 or better.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence

import numpy as np
import tensorflow as tf

DEFAULT_TOLERANCE = 1e-6


@dataclasses.dataclass(frozen=True, eq=False)
class GradientCheck:
    """One derivative computed three ways.

    Attributes:
        function: Name of the checked function.
        variable: The variable differentiated with respect to (e.g. ``x`` or ``d2/dx2``).
        point: Where it is evaluated, as text.
        value: The function's value there.
        hand: The hand-derived derivative.
        tape: The derivative from ``tf.GradientTape``.
        finite_difference: The central finite difference.
    """

    function: str
    variable: str
    point: str
    value: np.ndarray
    hand: np.ndarray
    tape: np.ndarray
    finite_difference: np.ndarray

    @property
    def max_abs_difference(self) -> float:
        """Largest element-wise gap between any two of the three derivatives."""
        return max(float(np.max(np.abs(a - b), initial=0.0)) for a, b in self._pairs())

    @property
    def relative_error(self) -> float:
        """Largest :func:`relative_error` between any two of the three derivatives."""
        return max(relative_error(a, b) for a, b in self._pairs())

    def passed(self, tolerance: float = DEFAULT_TOLERANCE) -> bool:
        """Whether all three derivatives agree to ``tolerance`` relative error."""
        return self.relative_error <= tolerance

    def _pairs(self) -> list[tuple[np.ndarray, np.ndarray]]:
        return [
            (self.hand, self.tape),
            (self.hand, self.finite_difference),
            (self.tape, self.finite_difference),
        ]


def relative_error(first: np.ndarray, second: np.ndarray) -> float:
    """max |first - second| / max(|first|, |second|), and 0 when both are all zeros."""
    first, second = np.asarray(first, np.float64), np.asarray(second, np.float64)
    scale = max(
        float(np.max(np.abs(first), initial=0.0)), float(np.max(np.abs(second), initial=0.0))
    )
    difference = float(np.max(np.abs(first - second), initial=0.0))
    if scale == 0.0:
        return difference
    return difference / scale


def _as_tensors(args: Sequence[np.ndarray | float]) -> list[tf.Tensor]:
    return [tf.constant(np.asarray(arg, np.float64)) for arg in args]


def _objective(output: tf.Tensor, upstream: np.ndarray | None) -> tf.Tensor:
    if upstream is None:
        return tf.reduce_sum(output)
    return tf.reduce_sum(tf.constant(upstream, output.dtype) * output)


def tape_gradients(
    function: Callable[..., tf.Tensor],
    args: Sequence[np.ndarray | float],
    upstream: np.ndarray | None = None,
) -> list[np.ndarray]:
    """Gradients of Σ upstream ⊙ function(*args) with respect to every argument."""
    tensors = _as_tensors(args)
    with tf.GradientTape() as tape:
        tape.watch(tensors)
        objective = _objective(function(*tensors), upstream)
    return [gradient.numpy() for gradient in tape.gradient(objective, tensors)]


def finite_difference_gradients(
    function: Callable[..., tf.Tensor],
    args: Sequence[np.ndarray | float],
    upstream: np.ndarray | None = None,
    step: float = 1e-6,
) -> list[np.ndarray]:
    """Central differences of Σ upstream ⊙ function(*args), one element at a time.

    Each element moves by ``step · max(1, |element|)`` so large arguments (x = 1000) are
    not lost to rounding.
    """
    points = [np.array(arg, np.float64) for arg in args]

    def objective() -> float:
        return float(_objective(function(*_as_tensors(points)), upstream).numpy())

    gradients = []
    for point in points:
        gradient = np.zeros_like(point)
        flat_point, flat_gradient = point.reshape(-1), gradient.reshape(-1)
        for index in range(flat_point.size):
            original = flat_point[index]
            increment = step * max(1.0, abs(original))
            flat_point[index] = original + increment
            above = objective()
            flat_point[index] = original - increment
            below = objective()
            flat_point[index] = original
            flat_gradient[index] = (above - below) / (2 * increment)
        gradients.append(gradient)
    return gradients


def compare(
    name: str,
    function: Callable[..., tf.Tensor],
    args: Sequence[np.ndarray | float],
    hand: Sequence[np.ndarray | tf.Tensor],
    variables: Sequence[str],
    upstream: np.ndarray | None = None,
    point: str | None = None,
) -> list[GradientCheck]:
    """Checks the hand gradients ``hand`` of ``function`` at ``args``, one row per variable.

    Args:
        name: Function name shown in the table.
        function: Callable taking one tensor per entry of ``args``.
        args: Point to evaluate at (float64 scalars or arrays).
        hand: Hand-derived gradients, one per argument, already evaluated at ``args``.
        variables: Argument names shown in the table.
        upstream: Upstream gradient G for non-scalar outputs; ``None`` sums the output.
        point: Text for the table; defaults to the scalar arguments or the shapes.
    """
    value = function(*_as_tensors(args)).numpy()
    tape = tape_gradients(function, args, upstream)
    finite = finite_difference_gradients(function, args, upstream)
    if point is None:
        point = ", ".join(
            f"{variable}={_describe(arg)}" for variable, arg in zip(variables, args, strict=True)
        )
    return [
        GradientCheck(
            function=name,
            variable=variable,
            point=point,
            value=value,
            hand=np.asarray(hand_gradient, np.float64),
            tape=tape_gradient,
            finite_difference=finite_gradient,
        )
        for variable, hand_gradient, tape_gradient, finite_gradient in zip(
            variables, hand, tape, finite, strict=True
        )
    ]


def _describe(array: np.ndarray | float) -> str:
    array = np.asarray(array)
    if array.ndim == 0:
        return f"{float(array):.6g}"
    return "[" + "x".join(str(size) for size in array.shape) + "]"


def _cell(array: np.ndarray) -> str:
    array = np.asarray(array)
    if array.size == 1:
        # Adding 0.0 prints a hand-computed -0.0 as 0.
        return f"{float(array.reshape(-1)[0]) + 0.0:.10g}"
    # A tensor is summarised by its Frobenius norm; the difference columns carry the check.
    return f"{_describe(array)} norm {float(np.linalg.norm(array)):.8g}"


def format_table(rows: Sequence[GradientCheck]) -> str:
    """Renders checks as a fixed-width text table, one line per derivative."""
    header = (
        "function",
        "wrt",
        "at",
        "value",
        "hand",
        "tape",
        "finite diff",
        "max|diff|",
        "rel.err",
    )
    lines = [
        (
            row.function,
            row.variable,
            row.point,
            _cell(row.value),
            _cell(row.hand),
            _cell(row.tape),
            _cell(row.finite_difference),
            f"{row.max_abs_difference:.2e}",
            f"{row.relative_error:.2e}",
        )
        for row in rows
    ]
    widths = [max(len(line[column]) for line in [header, *lines]) for column in range(len(header))]
    rule = "  ".join("-" * width for width in widths)
    formatted = [
        "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True))
        for line in lines
    ]
    title = "  ".join(cell.ljust(width) for cell, width in zip(header, widths, strict=True))
    return "\n".join([title.rstrip(), rule, *(line.rstrip() for line in formatted)])
