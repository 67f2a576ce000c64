"""Flags generated from a config dataclass, so every experiment's CLI matches its config."""

from __future__ import annotations

import argparse
import dataclasses
import typing

from tfnn.configs.validation import flag


def _parse_int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None


def _parse_float(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None


def _parse_widths(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a comma-separated list of integer widths, e.g. 150,120"
        ) from None


PARSERS = {int: _parse_int, float: _parse_float, str: str, tuple[int, ...]: _parse_widths}
# Shorter spellings of some flags.
ALIASES = {"jit_compile": ("--jit",)}


def add_config_flags(parser: argparse.ArgumentParser, config_class: type) -> None:
    """Adds ``--field-name`` for every field of ``config_class`` (default ``None``)."""
    hints = typing.get_type_hints(config_class)
    defaults = {field.name: field.default for field in dataclasses.fields(config_class)}
    for field in dataclasses.fields(config_class):
        hint = hints[field.name]
        help_text = f"{field.metadata.get('help', '')} (default: {defaults[field.name]})"
        if field.metadata.get("positional"):
            continue
        if hint is bool:
            parser.add_argument(
                flag(field.name),
                *ALIASES.get(field.name, ()),
                action=argparse.BooleanOptionalAction,
                default=None,
                help=help_text,
            )
        else:
            parser.add_argument(
                flag(field.name),
                *ALIASES.get(field.name, ()),
                type=PARSERS[hint],
                default=None,
                help=help_text,
                metavar=field.name.upper(),
            )


def config_from_args(config_class: type, args: argparse.Namespace, presets: dict | None = None):
    """Builds the config: class defaults, then the preset, then explicit flags."""
    values: dict = {}
    preset = getattr(args, "preset", None)
    if preset:
        values.update((presets or {})[preset])
    for field in dataclasses.fields(config_class):
        value = getattr(args, field.name, None)
        if value is not None:
            values[field.name] = value
    return config_class(**values)
