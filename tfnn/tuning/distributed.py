"""`tfnn tune --workers N`: keras-tuner's chief/worker mode on this machine.

keras-tuner chooses a process's role from environment variables: with
``KERASTUNER_ORACLE_IP``/``KERASTUNER_ORACLE_PORT`` set, the process whose
``KERASTUNER_TUNER_ID`` contains "chief" serves the oracle over gRPC and every
other id ("tuner0", "tuner1", ...) asks it for trials and runs them.

On one machine the `tfnn tune` process itself is the chief: it has already
imported TensorFlow and loaded the data, so it serves the oracle (keras-tuner's
own ``OracleServicer``) while N worker processes, started here with their output
prefixed, run the trials; a separate chief process would import TensorFlow while
the workers do, on the same cores, and delay their first trials. Each process is
``python -m tfnn.tuning`` (``tfnn/tuning/__main__.py``): one process of either role
(for several machines), or one share of the cross-validation that follows the search.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import time
from collections.abc import Callable, Iterator

from tfnn.configs.tune import TuneConfig
from tfnn.distribute.launch import (
    LOOPBACK,
    POLL_SECONDS,
    ProcessGroup,
    available_cores,
    describe_exit,
    worker_threads,
)
from tfnn.errors import TfnnError

ORACLE_IP = LOOPBACK
CHIEF = "chief"


def role_environment(tuner_id: str, port: int) -> dict[str, str]:
    """keras-tuner's variables for one process of a search served on ``ORACLE_IP:port``."""
    return {
        "KERASTUNER_TUNER_ID": tuner_id,
        "KERASTUNER_ORACLE_IP": ORACLE_IP,
        "KERASTUNER_ORACLE_PORT": str(port),
    }


@contextlib.contextmanager
def chief_environment(port: int) -> Iterator[None]:
    """This process in keras-tuner's chief role while the tuner is made (its id and
    its files are then the chief's; it serves the oracle itself, see ``oracle_server``)."""
    variables = role_environment(CHIEF, port)
    saved = {name: os.environ.get(name) for name in variables}
    os.environ.update(variables)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@contextlib.contextmanager
def oracle_server(oracle, port: int) -> Iterator[None]:
    """Serves ``oracle`` over gRPC on ``ORACLE_IP:port`` while the block runs.

    keras-tuner's own servicer; its ``oracle_chief.start_server`` would also do
    this, but then blocks for good (it polls every 20 s for stragglers after the
    last trial), and this process has the best trial to report.
    """
    from concurrent import futures

    import grpc
    from keras_tuner.src import protos
    from keras_tuner.src.distribute.oracle_chief import OracleServicer

    server = grpc.server(futures.ThreadPoolExecutor(max_workers=1))
    protos.get_service_grpc().add_OracleServicer_to_server(OracleServicer(oracle), server)
    server.add_insecure_port(f"{ORACLE_IP}:{port}")
    server.start()
    try:
        yield
    finally:
        server.stop(grace=None)


def _process_argv(config: TuneConfig, threads: int, *extra: str) -> list[str]:
    """The command line of one process of this module for ``config``."""
    return [
        sys.executable,
        "-m",
        "tfnn.tuning",
        "--threads",
        str(threads),
        "--config-json",
        json.dumps(config.to_dict()),
        *extra,
    ]


def _wait_for_workers(group: ProcessGroup) -> None:
    """Returns when every process has exited cleanly; raises TfnnError when one dies."""
    while True:
        failure = group.failed(list(group.processes))
        if failure:
            name, code = failure
            raise TfnnError(
                f"worker {name} {describe_exit(code)} (its output is above, prefixed "
                f"[{name}]); the other processes were stopped and the finished trials "
                "(and cross-validations) are kept: rerun the same command to continue"
            )
        if group.all_succeeded(list(group.processes)):
            return
        time.sleep(POLL_SECONDS)


def serve_workers(
    config: TuneConfig, oracle, port: int, print_fn: Callable[..., None] = print
) -> float:
    """Serves ``oracle`` from this process while ``config.workers`` worker processes
    run trials, until every trial has ended.

    Returns:
        Wall seconds from starting the workers to the last one's exit.

    Raises:
        TfnnError: A worker died.
    """
    threads = worker_threads(config.workers, available_cores())
    print_fn(
        f"distributed search: this process serves the oracle on {ORACLE_IP}:{port}, "
        f"{config.workers} workers with {threads} TensorFlow thread(s) each",
        flush=True,
    )
    with oracle_server(oracle, port), ProcessGroup(print_fn) as group:
        started = time.perf_counter()
        for index in range(config.workers):
            name = f"tuner{index}"
            group.start(name, _process_argv(config, threads), role_environment(name, port))
        _wait_for_workers(group)
        return time.perf_counter() - started


def share_by_cost(costs: dict[str, float], shares: int) -> list[list[str]]:
    """Splits ``costs``' keys into at most ``shares`` lists of about equal total cost
    (longest first, each to the least loaded list)."""
    loads: list[tuple[float, list[str]]] = [(0.0, []) for _ in range(shares)]
    for key in sorted(costs, key=lambda key: -costs[key]):
        total, keys = min(loads, key=lambda load: load[0])
        loads.remove((total, keys))
        loads.append((total + costs[key], [*keys, key]))
    return [keys for _, keys in loads if keys]


def cross_validate_on_workers(
    config: TuneConfig, trial_costs: dict[str, float], print_fn: Callable[..., None] = print
) -> None:
    """Cross-validates the trials of ``trial_costs`` (their fit seconds) in
    ``config.workers`` processes at once; each writes its trials' ``cv.json``.

    Raises:
        TfnnError: A process died (the folds measured so far are kept).
    """
    shares = share_by_cost(trial_costs, config.workers)
    threads = worker_threads(len(shares), available_cores())
    with ProcessGroup(print_fn) as group:
        for index, trial_ids in enumerate(shares):
            argv = _process_argv(config, threads, "--cross-validate", ",".join(trial_ids))
            group.start(f"cv{index}", argv, {})
        _wait_for_workers(group)
