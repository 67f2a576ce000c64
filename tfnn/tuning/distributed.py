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
import sys
import time
from collections.abc import Callable, Sequence

from tfnn.configs.tune import TuneConfig
from tfnn.distribute.launch import (
    LOOPBACK,
    POLL_SECONDS,
    ProcessGroup,
    available_cores,
    describe_exit,
    exit_with_parent,
    free_port,
    worker_threads,
)
from tfnn.errors import TfnnError

ORACLE_IP = LOOPBACK
CHIEF = "chief"


def _wait_for_workers(group: ProcessGroup) -> None:
    """Returns when every worker has exited cleanly; raises TfnnError when one dies."""
    workers = [name for name in group.processes if name != CHIEF]
    while True:
        failure = group.failed(workers)
        if failure:
            name, code = failure
            raise TfnnError(
                f"worker {name} {describe_exit(code)} (its output is above, prefixed "
                f"[{name}]); the other processes were stopped and the finished trials "
                "are kept: rerun the same command to continue"
            )
        if group.all_succeeded(workers):
            return
        code = group.processes[CHIEF].poll()
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
    started = time.perf_counter()
    with ProcessGroup(print_fn) as group:
        for name in names:
            group.start(
                name,
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
                {
                    "KERASTUNER_TUNER_ID": name,
                    "KERASTUNER_ORACLE_IP": ORACLE_IP,
                    "KERASTUNER_ORACLE_PORT": str(port),
                },
            )
        _wait_for_workers(group)
        return time.perf_counter() - started


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
    exit_with_parent()

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
