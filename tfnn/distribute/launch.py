"""Worker processes on this machine: free ports, prefixed output, all-or-nothing exit.

Shared by ``tfnn launch`` (multi-worker training, one process per ``TF_CONFIG``)
and ``tfnn tune --workers`` (keras-tuner's chief and workers). TensorFlow-free, so
the launcher starts fast. Each training worker is ``python -m tfnn.distribute train ...``:
the ``tfnn`` command line, ending when its launcher does.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Mapping, Sequence

from tfnn.distribute.cluster import LOOPBACK, RUN_DIR_PREFIX, TF_CONFIG, loopback_tf_configs
from tfnn.errors import TfnnError

POLL_SECONDS = 0.2
STOP_GRACE_SECONDS = 10.0

PrintFunction = Callable[..., None]


def free_ports(count: int) -> list[int]:
    """``count`` distinct TCP ports on 127.0.0.1 that are free now (bound a moment later)."""
    with contextlib.ExitStack() as stack:
        probes = [stack.enter_context(socket.socket()) for _ in range(count)]
        for probe in probes:
            probe.bind((LOOPBACK, 0))
        return [probe.getsockname()[1] for probe in probes]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free now."""
    return free_ports(1)[0]


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


class ProcessGroup:
    """Child processes whose output lines are printed with a ``[name]`` prefix.

    Use as a context manager: leaving it stops every process still running
    (SIGTERM, then SIGKILL after a grace period), so no child outlives the launcher.

    Args:
        print_fn: Where the prefixed lines go.
        on_line: Called with ``(name, line)`` for every line, before printing.
    """

    def __init__(
        self,
        print_fn: PrintFunction = print,
        on_line: Callable[[str, str], None] | None = None,
    ):
        self.print_fn = print_fn
        self.on_line = on_line
        self.processes: dict[str, subprocess.Popen] = {}
        self._readers: list[threading.Thread] = []
        self._lock = threading.Lock()

    def start(self, name: str, argv: Sequence[str], env: Mapping[str, str]) -> None:
        """Starts ``argv`` with ``env`` added to this process's environment."""
        self.processes[name] = process = subprocess.Popen(
            list(argv),
            env={
                **os.environ,
                "PYTHONUNBUFFERED": "1",
                "TF_CPP_MIN_LOG_LEVEL": os.environ.get("TF_CPP_MIN_LOG_LEVEL", "3"),
                **env,
            },
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            bufsize=1,
        )
        reader = threading.Thread(target=self._stream, args=(process, name), daemon=True)
        reader.start()
        self._readers.append(reader)

    def _stream(self, process: subprocess.Popen, name: str) -> None:
        for line in process.stdout:
            line = line.rstrip()
            if self.on_line:
                self.on_line(name, line)
            with self._lock:
                self.print_fn(f"[{name}] {line}", flush=True)

    def failed(self, names: Sequence[str] | None = None) -> tuple[str, int] | None:
        """``(name, exit code)`` of the first of ``names`` (default: all) that failed."""
        for name in names or self.processes:
            code = self.processes[name].poll()
            if code not in (None, 0):
                return name, code
        return None

    def all_succeeded(self, names: Sequence[str] | None = None) -> bool:
        return all(self.processes[name].poll() == 0 for name in names or self.processes)

    def stop(self) -> None:
        """SIGTERM every live process, then SIGKILL what is left after a grace period."""
        for process in self.processes.values():
            if process.poll() is None:
                process.terminate()
        deadline = time.monotonic() + STOP_GRACE_SECONDS
        for process in self.processes.values():
            try:
                process.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        for reader in self._readers:
            reader.join(timeout=5)

    def __enter__(self) -> ProcessGroup:
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()


def launch_training(
    train_argv: Sequence[str], workers: int, print_fn: PrintFunction = print
) -> float:
    """Runs ``tfnn <train_argv>`` as ``workers`` multi-worker processes on 127.0.0.1.

    Each process gets a ``TF_CONFIG`` naming every worker's free port (worker 0
    is the chief) and an equal share of the cores for TensorFlow's thread pool.

    Args:
        train_argv: A ``train EXPERIMENT ... --strategy multiworker`` command line.
        workers: How many processes.
        print_fn: Where the workers' prefixed output goes.

    Returns:
        Wall seconds until the last worker exited.

    Raises:
        TfnnError: A worker failed; the others were stopped.
    """
    ports = free_ports(workers)
    threads = worker_threads(workers, available_cores())
    print_fn(
        f"multi-worker training: {workers} workers on {LOOPBACK} ports "
        f"{', '.join(map(str, ports))} with {threads} TensorFlow thread(s) each; "
        "worker0 is the chief",
        flush=True,
    )
    run_dirs: list[str] = []

    def remember_run_dir(name: str, line: str) -> None:
        if line.startswith(RUN_DIR_PREFIX):
            run_dirs.append(line[len(RUN_DIR_PREFIX) :].strip())

    started = time.perf_counter()
    # The workers' temporary files (the non-chief run directories) go in here, removed
    # at the end even when a worker was killed before it could clean up.
    with (
        tempfile.TemporaryDirectory(prefix="tfnn-launch-") as scratch,
        ProcessGroup(print_fn, on_line=remember_run_dir) as group,
    ):
        for index, tf_config in enumerate(loopback_tf_configs(ports)):
            group.start(
                f"worker{index}",
                [sys.executable, "-m", "tfnn.distribute", *train_argv],
                {
                    TF_CONFIG: tf_config,
                    "TF_NUM_INTRAOP_THREADS": str(threads),
                    "TMPDIR": scratch,
                },
            )
        while not group.all_succeeded():
            failure = group.failed()
            if failure:
                name, code = failure
                raise TfnnError(
                    f"{name} {describe_exit(code)} (its output is above, prefixed [{name}]); "
                    "the other workers were stopped"
                    + (
                        f"; continue from the last finished epoch with `tfnn launch --workers "
                        f"{workers} -- {' '.join(train_argv[:2])} --resume {run_dirs[0]}`"
                        if run_dirs
                        else ""
                    )
                )
            time.sleep(POLL_SECONDS)
    return time.perf_counter() - started


def exit_with_parent() -> None:
    """Ends this process when its launcher dies, so no orphan keeps a port or the cores."""
    parent = os.getppid()

    def watch() -> None:
        while True:
            time.sleep(1)
            if os.getppid() != parent:
                os._exit(1)

    threading.Thread(target=watch, daemon=True).start()
