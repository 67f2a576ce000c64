"""``TF_CONFIG``: the cluster of a multi-worker run and this process's place in it.

TensorFlow reads the same variable (``MultiWorkerMirroredStrategy``); reading it
here first, without TensorFlow, turns a missing or malformed one into one line
and exit code 2 instead of a traceback or a hang.
"""

from __future__ import annotations

import atexit
import dataclasses
import json
import os
import shutil
import sys
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

from tfnn.errors import ConfigError

TF_CONFIG = "TF_CONFIG"
LOOPBACK = "127.0.0.1"
# The roles MultiWorkerMirroredStrategy trains with; "ps" and "evaluator" are other setups.
TASK_TYPES = ("chief", "worker")
# The chief prints this first, so a launcher whose job failed can say which directory
# to resume.
RUN_DIR_PREFIX = "chief's run directory: "
# The non-chief run directories this process made (removed at exit).
_TEMPORARY_RUN_DIRS: list[str] = []
EXAMPLE = (
    '{"cluster": {"worker": ["host0:12345", "host1:12345"]}, '
    '"task": {"type": "worker", "index": 0}}'
)


@dataclasses.dataclass(frozen=True)
class ClusterTask:
    """This process's task in a multi-worker cluster.

    Attributes:
        cluster: ``{"chief": [...], "worker": ["host:port", ...]}``.
        task_type: ``chief`` or ``worker``.
        task_index: Position in ``cluster[task_type]``.
    """

    cluster: dict[str, list[str]]
    task_type: str
    task_index: int

    @property
    def is_chief(self) -> bool:
        """TensorFlow's rule: the ``chief`` task, or worker 0 when there is none."""
        if "chief" in self.cluster:
            return self.task_type == "chief"
        return self.task_type == "worker" and self.task_index == 0

    @property
    def num_workers(self) -> int:
        return sum(len(self.cluster.get(task_type, [])) for task_type in TASK_TYPES)

    @property
    def name(self) -> str:
        return f"{self.task_type}{self.task_index}"


def _fail(problem: str) -> ConfigError:
    return ConfigError(f"--strategy multiworker: {problem}")


def _check_address(address: object) -> None:
    host, _, port = str(address).rpartition(":")
    if not isinstance(address, str) or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise _fail(f"{TF_CONFIG} address {address!r} is not host:port")


def read_tf_config(environ: Mapping[str, str] | None = None) -> ClusterTask:
    """Parses and checks ``TF_CONFIG``.

    Args:
        environ: Where to read it; defaults to ``os.environ``.

    Raises:
        ConfigError: It is missing, not JSON, or does not name this task in the cluster.
    """
    text = (os.environ if environ is None else environ).get(TF_CONFIG, "").strip()
    if not text:
        raise _fail(
            f"{TF_CONFIG} is not set: give every worker one, e.g. {TF_CONFIG}='{EXAMPLE}', "
            "or start them with `tfnn launch --workers N -- train ...`"
        )
    try:
        tf_config = json.loads(text)
    except ValueError as error:
        raise _fail(f"{TF_CONFIG} is not valid JSON ({error})") from None
    cluster = tf_config.get("cluster") if isinstance(tf_config, dict) else None
    task = tf_config.get("task") if isinstance(tf_config, dict) else None
    if not isinstance(cluster, dict) or not cluster:
        raise _fail(f'{TF_CONFIG} has no "cluster" object')
    for task_type, addresses in cluster.items():
        if task_type not in TASK_TYPES:
            raise _fail(f'{TF_CONFIG} cluster role {task_type!r} is not "chief" or "worker"')
        if not isinstance(addresses, list) or not addresses:
            raise _fail(f'{TF_CONFIG} cluster "{task_type}" must be a non-empty list')
        for address in addresses:
            _check_address(address)
    if len(cluster.get("chief", [])) > 1:
        raise _fail(f"{TF_CONFIG} cluster has more than one chief")
    if not isinstance(task, dict) or "type" not in task or "index" not in task:
        raise _fail(f'{TF_CONFIG} has no "task": {{"type": ..., "index": ...}}')
    task_type, task_index = task["type"], task["index"]
    if task_type not in cluster:
        raise _fail(f"{TF_CONFIG} task type {task_type!r} is not in the cluster")
    if isinstance(task_index, bool) or not isinstance(task_index, int):
        raise _fail(f"{TF_CONFIG} task index {task_index!r} is not an integer")
    if not 0 <= task_index < len(cluster[task_type]):
        raise _fail(
            f"{TF_CONFIG} task index {task_index} is outside the {len(cluster[task_type])} "
            f"{task_type} address(es)"
        )
    return ClusterTask(cluster, task_type, task_index)


def loopback_tf_configs(ports: Sequence[int]) -> list[str]:
    """One ``TF_CONFIG`` per worker of a cluster on 127.0.0.1 (worker 0 is the chief)."""
    workers = [f"{LOOPBACK}:{port}" for port in ports]
    return [
        json.dumps({"cluster": {"worker": workers}, "task": {"type": "worker", "index": index}})
        for index in range(len(ports))
    ]


def multiworker_task(strategy: str) -> ClusterTask | None:
    """This process's task when ``strategy`` is multiworker, else None."""
    return read_tf_config() if strategy == "multiworker" else None


def non_chief_run_dir(strategy: str) -> Path | None:
    """A temporary run directory for a worker that is not the chief, else None.

    Every worker runs the same code, but only the chief's logs, checkpoints and
    results are kept: the others write into this directory, removed at exit.
    """
    task = multiworker_task(strategy)
    if task is None or task.is_chief:
        return None
    path = tempfile.mkdtemp(prefix=f"tfnn-{task.name}-")
    _TEMPORARY_RUN_DIRS.append(path)
    atexit.register(shutil.rmtree, path, ignore_errors=True)
    return Path(path)


def end_worker_process(code: int = 0):
    """Ends a finished multi-worker process now, skipping TensorFlow's teardown.

    At exit TensorFlow waits for the other workers at the coordination service;
    once one of them has gone, that wait runs into timeouts (measured on
    127.0.0.1: 36-42 s per process after training had ended). Everything the
    run keeps is written and closed by now, so only the temporary directory is
    removed and the output flushed.
    """
    for path in _TEMPORARY_RUN_DIRS:
        shutil.rmtree(path, ignore_errors=True)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
