"""Ctrl-C that always stops a run, even when its KeyboardInterrupt is swallowed."""

from __future__ import annotations

import signal
import threading

_requested = threading.Event()


def _raise_interrupt(signum, frame) -> None:
    _requested.set()
    raise KeyboardInterrupt


def install_handler() -> None:
    """Makes SIGINT raise ``KeyboardInterrupt`` (also when a shell started us with it
    ignored) and remembers it, for :func:`requested`.

    Python runs the handler in whatever code the main thread is in: inside an object's
    finalizer (TensorFlow has many) the exception is printed and dropped, and a run
    carried on to its end; a callback that checks :func:`requested` stops it anyway.
    """
    _requested.clear()
    signal.signal(signal.SIGINT, _raise_interrupt)


def requested() -> bool:
    """Whether SIGINT arrived since :func:`install_handler`."""
    return _requested.is_set()
