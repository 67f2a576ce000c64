"""Queues of packs trained side by side on threads ("lanes"), one core each.

A pack's compiled program runs on the thread that calls it and releases Python's GIL
while it runs, so on two cores two programs on two threads can run in about the time
of one (the search's own numbers are in docs/tuning.md). Only that part runs at once:
everything else a lane does (callbacks, the oracle, files, printing) holds one turn,
so it runs one lane at a time, as it would in one thread. Each lane has its own
packs' variables (the lanes share the traced and compiled programs, which take the
variables as arguments), so which lane trains a queue changes no number: a free lane
takes the costliest queue left, and the lanes end together even where the costs were
misjudged.
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


class _Turn:
    """Whose turn it is to run Python: what a lane holds outside its programs, and
    what a lane in a long stretch of Python (building a queue's models) can hand to a
    lane that waits for it."""

    def __init__(self):
        self._changed = threading.Condition()
        self._held = False
        self._waiting = 0
        self._taken = 0  # turns taken so far: tells a lane that gave way when to go on

    def acquire(self) -> None:
        with self._changed:
            self._waiting += 1
            while self._held:
                self._changed.wait()
            self._waiting -= 1
            self._held = True
            self._taken += 1

    def release(self) -> None:
        with self._changed:
            self._held = False
            self._changed.notify_all()

    def give_way(self) -> None:
        """If a lane waits for the turn, lets it take it, then waits to get it back."""
        with self._changed:
            if not self._waiting:
                return
            taken = self._taken
            self._held = False
            self._changed.notify_all()
            while self._taken == taken:
                self._changed.wait()
        self.acquire()


@contextlib.contextmanager
def program_running() -> Iterator[None]:
    """Lets the other lanes go on while this lane's compiled program runs (nothing
    outside lanes). Inside, touch no state but the program's own."""
    turn = getattr(_lane, "turn", None)
    if turn is None:
        yield
        return
    turn.release()
    try:
        yield
    finally:
        turn.acquire()


def give_way() -> None:
    """Lets a lane that waits to run its Python (its few milliseconds between two
    programs) go first; call it between the pieces of long Python work, such as the
    Keras builds of a queue's models (outside lanes: nothing to do)."""
    turn = getattr(_lane, "turn", None)
    if turn is not None:
        turn.give_way()


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
    in order). A free lane takes the costliest item not yet taken, so a lane whose items
    ran shorter than their costs said takes more. Returns when every lane is done; a
    lane's error (a Ctrl-C included) stops the other lanes before their next item and
    is raised here."""
    lanes = min(count, len(items))
    if lanes <= 1:
        for item in items:
            work(item)
        return
    # Drawn with the turn held (a lane holds it between items): one lane at a time.
    waiting = iter(sorted(range(len(items)), key=lambda index: (-cost(items[index]), index)))
    turn = _Turn()
    stop = threading.Event()
    errors: list[BaseException] = []

    def lane(index: int) -> None:
        _lane.index, _lane.turn = index, turn
        turn.acquire()
        try:
            for position in waiting:
                if stop.is_set():
                    return
                try:
                    work(items[position])
                except BaseException as error:  # noqa: BLE001 - raised in the caller
                    errors.append(error)
                    stop.set()
                    return
        finally:
            turn.release()

    threads = [
        threading.Thread(target=lane, args=(index,), name=f"tfnn-lane-{index}")
        for index in range(lanes)
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
