"""`tfnn board`: TensorBoard on a log root, bound to localhost."""

from __future__ import annotations

import socket
import time
from pathlib import Path

from tfnn.errors import ConfigError

HOST = "127.0.0.1"


def check_port_free(port: int) -> None:
    """ConfigError if ``port`` is out of range or already taken on localhost."""
    if not 1 <= port <= 65535:
        raise ConfigError(f"--port {port} is not allowed: must be between 1 and 65535")
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((HOST, port))
        except OSError:
            raise ConfigError(
                f"--port {port} is already in use on {HOST}: choose another with --port"
            ) from None


def serve(logdir: str, port: int) -> int:
    """Starts TensorBoard on ``logdir`` and serves until interrupted."""
    if not Path(logdir).is_dir():
        raise ConfigError(f"--logdir {logdir!r} is not a directory: train something first")
    check_port_free(port)
    from tensorboard import program

    board = program.TensorBoard()
    board.configure(argv=[None, "--logdir", str(logdir), "--host", HOST, "--port", str(port)])
    url = board.launch()
    print(f"TensorBoard on {logdir} at {url}  (Ctrl-C to stop)", flush=True)
    while True:
        time.sleep(3600)
