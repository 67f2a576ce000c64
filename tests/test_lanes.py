"""Lanes: a free lane takes the costliest queue left, one lane's Python at a time (a long
stretch of it giving way), errors raised in the caller; packs trained in two lanes give
the numbers they give in one."""

from __future__ import annotations

import subprocess
import sys
import threading
import time

import numpy as np
import pytest

from tfnn.tuning.lanes import (
    current_lane,
    give_way,
    program_running,
    run_in_lanes,
    split_queues,
)


def test_a_free_lane_takes_the_costliest_item_left():
    # "b" was judged cheaper than "a" but runs far longer: the lane that ran "a" takes
    # "c" and "d" while "b" still runs (dealt out beforehand, "c" would follow "b").
    estimate = {"a": 4.0, "b": 3.0, "c": 2.0, "d": 1.0}
    seconds = {"a": 0.02, "b": 0.5, "c": 0.02, "d": 0.02}
    started, lane_of = [], {}

    def work(name):
        started.append(name)
        lane_of[name] = current_lane()
        with program_running():
            time.sleep(seconds[name])

    run_in_lanes(["d", "c", "b", "a"], work, cost=estimate.__getitem__, count=2)
    assert started == ["a", "b", "c", "d"]
    assert lane_of["a"] == lane_of["c"] == lane_of["d"] != lane_of["b"]


def test_a_long_stretch_of_python_gives_way_to_the_other_lanes_turns():
    events = []

    def work(name):
        if name == "builds":
            for _ in range(6):
                give_way()
                events.append("build")
                time.sleep(0.02)  # Python holding the turn, as a Keras build does
        else:
            for _ in range(6):
                events.append("step")  # a lane's few ms between two programs
                with program_running():
                    time.sleep(0.005)

    run_in_lanes(["builds", "steps"], work, cost=len, count=2)
    builds = [index for index, event in enumerate(events) if event == "build"]
    # Without giving way the six builds would run back to back.
    assert events[builds[0] : builds[-1]].count("step") >= 3, events
    give_way()  # outside lanes: nothing to give way to


def test_a_queue_longer_than_a_lanes_share_is_dealt_into_parts():
    queues = [list(range(10)), [10, 11]]
    # 12 items in 2 lanes: a share is 6, so the 10-item queue goes into 2 parts, dealt
    # in turn; the short one stays whole.
    parts = split_queues(queues, len, 2)
    assert parts == [[0, 2, 4, 6, 8], [1, 3, 5, 7, 9], [10, 11]]
    assert split_queues(queues, len, 1) == queues
    assert sorted(item for part in split_queues(queues, len, 3) for item in part) == list(range(12))


def test_only_programs_run_at_once_and_every_item_runs():
    inside, most, done = [0], [0], []
    guard = threading.Lock()

    def work(item):
        # Outside program_running a lane holds the lock: never two lanes here at once.
        with guard:
            inside[0] += 1
            most[0] = max(most[0], inside[0])
        time.sleep(0.01)
        with guard:
            inside[0] -= 1
        with program_running():
            time.sleep(0.02)  # the other lane's Python part may run meanwhile
        done.append((item, current_lane()))

    run_in_lanes(list(range(6)), work, cost=lambda item: 1.0, count=2)
    assert sorted(item for item, _ in done) == list(range(6))
    assert {lane for _, lane in done} == {0, 1}
    assert most[0] == 1


def test_an_error_in_one_lane_stops_the_others_and_is_raised():
    ran = []

    def work(item):
        if item == 0:
            raise RuntimeError("too many failed trials")
        with program_running():
            time.sleep(0.05)
        ran.append(item)

    with pytest.raises(RuntimeError, match="too many failed trials"):
        run_in_lanes(list(range(8)), work, cost=lambda item: 8 - item, count=2)
    assert len(ran) < 7  # the other lane stopped before its next item


def test_one_lane_runs_in_order_in_this_thread():
    seen = []
    run_in_lanes([3, 1, 2], lambda item: seen.append((item, current_lane())), len, count=1)
    assert seen == [(3, 0), (1, 0), (2, 0)]


def pack_setup():
    from test_packs import EIGHT, fit_data, hp_of

    from tfnn.configs.tune import TuneConfig
    from tfnn.tuning.hypermodels import DigitsHyperModel, validation_epochs
    from tfnn.tuning.packs import PackMember, PackTrainer
    from tfnn.tuning.search import load_search_data

    config = TuneConfig(experiment="digits")
    hypermodel = DigitsHyperModel(load_search_data(config), config)
    x, y, fit_rows, validation_rows = fit_data(hypermodel)

    def members(batch_size, settings):
        return [
            PackMember(
                hypermodel.build(hp_of(hypermodel, values, batch_size)),
                values["epochs"],
                fit_rows,
                validation_rows,
                validation_epochs(values["epochs"]),
            )
            for values in settings
        ]

    def train(batch_size, queue):
        trainer = PackTrainer(queue, x, y, batch_size, seed=0, jit_compile=True, size=4)
        return [result.last for result in trainer.fit()]

    return EIGHT, members, train


def test_packs_in_two_lanes_train_as_in_one():
    eight, members, train = pack_setup()
    queues = [(16, eight[:4]), (64, eight[4:])]
    alone = [train(batch_size, members(batch_size, settings)) for batch_size, settings in queues]
    side_by_side = {}
    # Built in the lanes, as a search builds each queue's models.
    run_in_lanes(
        queues,
        lambda item: side_by_side.__setitem__(item[0], train(item[0], members(*item))),
        cost=lambda item: item[0],
        count=2,
    )
    for (batch_size, _), expected in zip(queues, alone, strict=True):
        for got, want in zip(side_by_side[batch_size], expected, strict=True):
            for name, value in want.items():
                assert np.isclose(got[name], value, rtol=1e-5, atol=1e-6), (batch_size, name)


def test_lanes_share_one_traced_program_per_shape():
    from tfnn.tuning import pack_programs

    eight, members, train = pack_setup()
    pack_programs.forget_programs()
    built = {name: members(32, eight[:4]) for name in ("first", "second")}
    results = {}
    run_in_lanes(
        list(built),
        lambda name: results.__setitem__(name, train(32, built[name])),
        cost=lambda name: 1.0,
        count=2,
    )
    # Each lane has its own variables, but one trace serves both: the same concrete
    # functions, which XLA compiles once for their argument shapes.
    assert {lane for lane, _, _ in pack_programs._PROGRAMS} == {0, 1}
    assert len(pack_programs._FUNCTIONS) == 1
    (functions,) = pack_programs._FUNCTIONS.values()
    # One trace each, with the sizes left open, that both lanes' programs call.
    assert functions.train_epoch.experimental_get_tracing_count() == 1
    assert functions.score.experimental_get_tracing_count() == 1
    assert len(functions._concrete) == 2
    first, second = pack_programs._PROGRAMS.values()
    assert first._functions is second._functions is functions
    assert first.network.state["kernels"][0] is not second.network.state["kernels"][0]
    assert results["first"] == results["second"]


def test_importing_the_search_leaves_tensorflow_to_be_set_up():
    # TensorFlow takes thread settings only before its runtime starts: importing the
    # search must not start it (e.g. by making a Keras optimizer at import).
    code = (
        "import tfnn.tuning.search\n"
        "import tensorflow as tf\n"
        "tf.config.threading.set_intra_op_parallelism_threads(1)\n"
        "assert tf.config.threading.get_intra_op_parallelism_threads() == 1\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
