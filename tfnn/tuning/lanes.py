"""Queues of packs trained side by side on threads ("lanes"), one core each.

A pack's compiled program runs on the thread that calls it and releases Python's GIL
while it runs, so on two cores two programs on two threads can run in about the time
of one (the search's own numbers are in docs/tuning.md). Only that part runs at once:
everything else a lane does (callbacks, the oracle, files, printing) holds one lock,
so it runs one lane at a time, as it would in one thread. Each lane has its own
packs' variables (the lanes share the traced and compiled programs, which take the
variables as arguments), and the queues go to lanes by a fixed rule, so a seed still
makes two searches equal.
"""

from __future__ import annotations

import contextlib
import math
import os
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import TypeVar

from tfnn.configs.tune import TuneConfig

Item = TypeVar("Item")

_lane = threading.local()


def lane_count(workers: int = 1) -> int:
    """Lanes for one of ``workers`` processes: the cores it may use, shared among them."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, (cores or 1) // max(1, workers))


def search_lanes(config: TuneConfig) -> int:
    """Lanes of one process of ``config``'s search and cross-validation: one per core it
    has (cores / ``--workers``), or 1 when trials train one at a time (``--pack 1``)."""
    return lane_count(config.workers) if config.pack_size > 1 else 1


def current_lane() -> int:
    """This thread's lane (0 outside lanes): which packs' variables it may use."""
    return getattr(_lane, "index", 0)


@contextlib.contextmanager
def program_running() -> Iterator[None]:
    """Lets the other lanes go on while this lane's compiled program runs (nothing
    outside lanes). Inside, touch no state but the program's own."""
    lock = getattr(_lane, "lock", None)
    if lock is None:
        yield
        return
    lock.release()
    try:
        yield
    finally:
        lock.acquire()


def assign(costs: Sequence[float], count: int) -> list[list[int]]:
    """Indices of ``costs`` spread over ``count`` lanes: costliest first, each to the lane
    with the least so far (ties to the lower lane); a fixed result for fixed costs."""
    lanes: list[list[int]] = [[] for _ in range(count)]
    loads = [0.0] * count
    for index in sorted(range(len(costs)), key=lambda i: (-costs[i], i)):
        lane = min(range(count), key=lambda n: (loads[n], n))
        lanes[lane].append(index)
        loads[lane] += costs[index]
    return [lane for lane in lanes if lane]


def split_queues(queues: Sequence[list], cost: Callable[[list], float], count: int) -> list[list]:
    """``queues`` with each one costlier than a lane's share of them all (``count``
    lanes) dealt into as many parts as it needs, its items in turn, so that each part
    gets long and short items alike: one long queue would otherwise keep one lane busy
    while the others idle. Fixed for fixed costs."""
    if count <= 1:
        return list(queues)
    share = sum(cost(queue) for queue in queues) / count
    parts = []
    for queue in queues:
        pieces = min(len(queue), max(1, math.ceil(cost(queue) / share - 1e-9))) if share else 1
        parts += [queue[start::pieces] for start in range(pieces)]
    return parts


def run_in_lanes(
    items: Sequence[Item],
    work: Callable[[Item], None],
    cost: Callable[[Item], float],
    count: int,
) -> None:
    """Runs ``work(item)`` for every item, on up to ``count`` lanes (one: in this thread,
    in order). Returns when every lane is done; a lane's error (a Ctrl-C included)
    stops the other lanes before their next item and is raised here."""
    plan = assign([cost(item) for item in items], count) if count > 1 else []
    if len(plan) <= 1:
        for item in items:
            work(item)
        return
    lock = threading.Lock()
    stop = threading.Event()
    errors: list[BaseException] = []

    def lane(index: int, queue: list[int]) -> None:
        _lane.index, _lane.lock = index, lock
        with lock:
            for position in queue:
                if stop.is_set():
                    return
                try:
                    work(items[position])
                except BaseException as error:  # noqa: BLE001 - raised in the caller
                    errors.append(error)
                    stop.set()
                    return

    threads = [
        threading.Thread(target=lane, args=(index, queue), name=f"tfnn-lane-{index}")
        for index, queue in enumerate(plan)
    ]
    for thread in threads:
        thread.start()
    try:
        for thread in threads:
            thread.join()
    except KeyboardInterrupt:
        # Ctrl-C lands in this thread; the lanes see it (interrupts.requested) at their
        # next epoch and end with it.
        stop.set()
        for thread in threads:
            thread.join()
        raise
    if errors:
        raise errors[0]
