"""Checks shared by every configuration; messages name the field, the value and the rule."""

from __future__ import annotations

import math
from collections.abc import Iterable

from tfnn.errors import ConfigError, flag

__all__ = ["ConfigError", "flag"]

ACTIVATIONS = ("relu", "sigmoid", "tanh", "elu", "leaky_relu", "softmax")
OPTIMIZERS = ("sgd", "momentum", "adam", "rmsprop", "adagrad")
INITIALIZERS = (
    "glorot_uniform",
    "glorot_normal",
    "he_normal",
    "he_uniform",
    "normal",
    "truncated_normal",
    "zeros",
)
LOSS_REDUCTIONS = ("mean", "sum")
# default: one device; mirrored: all local devices; multiworker: the processes in TF_CONFIG.
STRATEGIES = ("default", "mirrored", "multiworker")


def _fail(field_name: str, value: object, rule: str) -> ConfigError:
    shown = (",".join(map(str, value)) or "''") if isinstance(value, tuple) else repr(value)
    return ConfigError(f"{{{field_name}}} {shown} is not allowed: {rule}")


def check_int(field_name: str, value: object, minimum: int = 1, maximum: int | None = None) -> None:
    """Raises ConfigError unless ``value`` is an int in ``[minimum, maximum]``."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise _fail(field_name, value, "must be an integer")
    if value < minimum or (maximum is not None and value > maximum):
        upper = f" and <= {maximum}" if maximum is not None else ""
        raise _fail(field_name, value, f"must be an integer >= {minimum}{upper}")


def check_float(
    field_name: str,
    value: object,
    minimum: float = 0.0,
    maximum: float | None = None,
    allow_minimum: bool = False,
) -> None:
    """Raises ConfigError unless ``value`` is a finite number above ``minimum``.

    ``allow_minimum`` makes the lower bound inclusive (``--l2 0`` is fine,
    ``--learning-rate 0`` is not).
    """
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise _fail(field_name, value, "must be a finite number")
    below = value < minimum if allow_minimum else value <= minimum
    if below or (maximum is not None and value > maximum):
        sign = ">=" if allow_minimum else ">"
        upper = f" and <= {maximum:g}" if maximum is not None else ""
        raise _fail(field_name, value, f"must be {sign} {minimum:g}{upper}")


def check_choice(field_name: str, value: object, choices: Iterable[str]) -> None:
    """Raises ConfigError unless ``value`` is one of ``choices``."""
    choices = tuple(choices)
    if value not in choices:
        raise _fail(field_name, value, "choose one of " + ", ".join(choices))


def check_widths(field_name: str, value: object) -> None:
    """Raises ConfigError unless ``value`` is a non-empty tuple of positive ints."""
    if not isinstance(value, tuple) or not value:
        raise _fail(field_name, value, "give one or more layer widths, e.g. 150,120")
    for width in value:
        if isinstance(width, bool) or not isinstance(width, int) or width < 1:
            raise _fail(field_name, value, "every width must be an integer >= 1, e.g. 150,120")


def check_network(config) -> None:
    """The settings every network builder takes: activation, init, init_std, dropout."""
    check_choice("activation", config.activation, ACTIVATIONS)
    check_choice("init", config.init, INITIALIZERS)
    check_float("init_std", config.init_std, maximum=10.0)
    check_float("dropout", config.dropout, maximum=0.95, allow_minimum=True)
