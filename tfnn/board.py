"""`tfnn board`: TensorBoard on a log root, bound to localhost."""

from __future__ import annotations

import socket
import time
from pathlib import Path

from tfnn.errors import ConfigError

HOST = "127.0.0.1"
# TensorBoard's own default: how often (seconds) new event files are picked up.
DEFAULT_RELOAD_INTERVAL = 5.0


def check_port_free(port: int) -> None:
    """ConfigError if ``port`` is out of range or already taken on localhost."""
    if not 1 <= port <= 65535:
        raise ConfigError(f"{{port}} {port} is not allowed: must be between 1 and 65535")
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((HOST, port))
        except OSError:
            raise ConfigError(
                f"{{port}} {port} is already in use on {HOST}: choose another with {{port}}"
            ) from None


def start(logdir: str, port: int, *, reload_interval: float = DEFAULT_RELOAD_INTERVAL) -> str:
    """Starts TensorBoard on ``logdir`` in background threads; returns its URL.

    The server lives as long as this process; ``serve`` is the blocking CLI wrapper.
    """
    if not Path(logdir).is_dir():
        raise ConfigError(f"{{logdir}} {logdir!r} is not a directory: train something first")
    if reload_interval < 0:
        raise ConfigError(f"{{reload_interval}} {reload_interval} is not allowed: must be >= 0")
    check_port_free(port)
    # TensorBoard imports TensorFlow when present; its C++ start-up lines are noise here.
    from tfnn.quiet import import_tensorflow_quietly

    import_tensorflow_quietly()
    from tensorboard import program

    board = program.TensorBoard()
    board.configure(
        argv=[
            None,
            "--logdir",
            str(logdir),
            "--host",
            HOST,
            "--port",
            str(port),
            "--reload_interval",
            str(reload_interval),
        ]
    )
    try:
        return board.launch()
    except program.TensorBoardPortInUseError:
        # Another process took the port between the check above and TensorBoard's bind.
        raise ConfigError(
            f"{{port}} {port} is already in use on {HOST}: choose another with {{port}}"
        ) from None
    except program.TensorBoardServerException as error:  # e.g. a port below 1024 without root
        raise ConfigError(f"{{port}} {port}: {error.msg}") from None


def serve(logdir: str, port: int, *, reload_interval: float = DEFAULT_RELOAD_INTERVAL) -> int:
    """Starts TensorBoard on ``logdir`` and serves until interrupted (Ctrl-C: exit 0)."""
    url = start(logdir, port, reload_interval=reload_interval)
    try:
        # Flushed at once: scripts and tests wait for this line to know the URL.
        print(f"TensorBoard on {logdir} at {url}  (Ctrl-C to stop)", flush=True)
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        # Ctrl-C is how a server is meant to stop, not a failure.
        print("TensorBoard stopped", flush=True)
        return 0
