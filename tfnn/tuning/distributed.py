"""`tfnn tune --workers N`: keras-tuner's chief/worker mode on this machine.

keras-tuner chooses a process's role from environment variables: with
``KERASTUNER_ORACLE_IP``/``KERASTUNER_ORACLE_PORT`` set, the process whose
``KERASTUNER_TUNER_ID`` contains "chief" serves the oracle over gRPC and every
other id ("tuner0", "tuner1", ...) asks it for trials and runs them. This module
starts those processes (TensorFlow-free, so the launcher starts fast), prefixes
their output, and stops everything when one dies. Run as ``python -m`` it is one
such process.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence

from tfnn.configs.tune import TuneConfig
from tfnn.errors import TfnnError

ORACLE_IP = "127.0.0.1"
CHIEF = "chief"
POLL_SECONDS = 0.2
STOP_GRACE_SECONDS = 10.0


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free now (the chief binds it a moment later)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((ORACLE_IP, 0))
        return probe.getsockname()[1]


def available_cores() -> int:
    """CPU cores this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def worker_threads(workers: int, cores: int) -> int:
    """TensorFlow intra-op threads per worker, so the workers share the cores."""
    return max(1, cores // workers)


def describe_exit(code: int) -> str:
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = str(-code)
        return f"was killed by {name}"
    return f"exited with code {code}"


def _stream(process: subprocess.Popen, name: str, print_fn: Callable, lock: threading.Lock):
    for line in process.stdout:
        with lock:
            print_fn(f"[{name}] {line.rstrip()}", flush=True)


def _stop(processes: dict[str, subprocess.Popen]) -> None:
    """SIGTERM every live process, then SIGKILL what is left after a grace period."""
    for process in processes.values():
        if process.poll() is None:
            process.terminate()
    deadline = time.monotonic() + STOP_GRACE_SECONDS
    for process in processes.values():
        try:
            process.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_for_workers(processes: dict[str, subprocess.Popen]) -> None:
    """Returns when every worker has exited cleanly; raises TfnnError when one dies."""
    workers = {name: process for name, process in processes.items() if name != CHIEF}
    while True:
        for name, process in workers.items():
            code = process.poll()
            if code not in (None, 0):
                raise TfnnError(
                    f"worker {name} {describe_exit(code)} (its output is above, prefixed "
                    f"[{name}]); the other processes were stopped and the finished trials "
                    "are kept: rerun the same command to continue"
                )
        if all(process.poll() == 0 for process in workers.values()):
            return
        code = processes[CHIEF].poll()
        if code is not None:
            raise TfnnError(
                f"the chief (the oracle server) {describe_exit(code)} before the workers "
                "finished; the finished trials are kept: rerun the same command to continue"
            )
        time.sleep(POLL_SECONDS)


def launch(config: TuneConfig, print_fn: Callable[..., None] = print) -> float:
    """Runs a chief and ``config.workers`` workers until every trial has ended.

    The chief keeps serving after the last trial (keras-tuner polls every 20 s
    for stragglers); once every worker has exited cleanly the oracle state is
    saved, so the chief is stopped instead of waited for.

    Returns:
        Wall seconds from starting the processes to the last worker's exit.

    Raises:
        TfnnError: A worker or the chief died.
    """
    port = free_port()
    threads = worker_threads(config.workers, available_cores())
    names = [CHIEF] + [f"tuner{index}" for index in range(config.workers)]
    config_json = json.dumps(config.to_dict())
    print_fn(
        f"distributed search: chief on {ORACLE_IP}:{port}, {config.workers} workers "
        f"with {threads} TensorFlow thread(s) each",
        flush=True,
    )
    processes: dict[str, subprocess.Popen] = {}
    readers: list[threading.Thread] = []
    lock = threading.Lock()
    started = time.perf_counter()
    try:
        for name in names:
            processes[name] = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "tfnn.tuning.distributed",
                    # The chief only answers gRPC calls; one thread is plenty.
                    "--threads",
                    str(1 if name == CHIEF else threads),
                    "--config-json",
                    config_json,
                ],
                env={
                    **os.environ,
                    "KERASTUNER_TUNER_ID": name,
                    "KERASTUNER_ORACLE_IP": ORACLE_IP,
                    "KERASTUNER_ORACLE_PORT": str(port),
                    "PYTHONUNBUFFERED": "1",
                    "TF_CPP_MIN_LOG_LEVEL": os.environ.get("TF_CPP_MIN_LOG_LEVEL", "3"),
                },
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                bufsize=1,
            )
            reader = threading.Thread(
                target=_stream, args=(processes[name], name, print_fn, lock), daemon=True
            )
            reader.start()
            readers.append(reader)
        _wait_for_workers(processes)
        return time.perf_counter() - started
    finally:
        _stop(processes)
        for reader in readers:
            reader.join(timeout=5)


def _exit_with_parent() -> None:
    """Ends this process when the launcher dies, so no orphan keeps the port or the cores."""
    parent = os.getppid()

    def watch() -> None:
        while True:
            time.sleep(1)
            if os.getppid() != parent:
                os._exit(1)

    threading.Thread(target=watch, daemon=True).start()


def main(argv: Sequence[str] | None = None) -> int:
    """One chief or worker process; its role comes from ``KERASTUNER_TUNER_ID``."""
    parser = argparse.ArgumentParser(
        prog="python -m tfnn.tuning.distributed",
        description="One process of `tfnn tune --workers N` (started by it, not by hand).",
    )
    parser.add_argument("--threads", type=int, required=True, help="TF intra-op threads")
    parser.add_argument("--config-json", required=True, help="the TuneConfig as JSON")
    args = parser.parse_args(argv)
    config = TuneConfig.from_dict(json.loads(args.config_json))
    _exit_with_parent()

    from tfnn.cli import import_tensorflow_quietly

    import_tensorflow_quietly()
    import tensorflow as tf

    # Before any op runs: the thread pools are fixed when TensorFlow's runtime starts.
    tf.config.threading.set_intra_op_parallelism_threads(args.threads)
    tf.config.threading.set_inter_op_parallelism_threads(1)

    from tfnn.tuning.search import run_role

    try:
        run_role(config)
    except TfnnError as error:
        print(f"tfnn: error: {error}", file=sys.stderr)
        return error.exit_code
    return 0


if __name__ == "__main__":
    sys.exit(main())
