"""keras-tuner trials trained in packs: the oracle samples and records, a pack trains.

The oracle (``RandomSearchOracle``: its project directory, state and resume) hands out
every trial as usual; the tuner asks for a window of trials under member ids
(``tuner0.3``), queues them by batch size, longest first, builds each queue's models
in its lane (:mod:`tfnn.tuning.lanes`) and trains each depth among them as one
:class:`PackTrainer` of ``pack`` slots (a slot takes the next trial when its trial
ends), and reports every member to
the oracle as it ends, with its own metrics, its own TensorBoard run and HParams, as a
solo trial would. A member whose loss turns NaN is recorded as failed;
its pack goes on. A kill leaves the window's unfinished trials ongoing, and a reloaded
oracle runs exactly those again. A model a pack cannot reproduce trains alone.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Sequence

import keras
import numpy as np
from keras_tuner.src.engine import trial as trial_module
from keras_tuner.src.engine import tuner_utils

from tfnn.tuning.hypermodels import ACTIVATIONS, ConfigHyperModel, validation_epochs
from tfnn.tuning.lanes import give_way, run_in_lanes, split_queues
from tfnn.tuning.pack_network import PackError, dense_layers
from tfnn.tuning.packs import PackMember, PackTrainer, pack_features, pack_labels

TrialStatus = trial_module.TrialStatus


def member_ids(tuner_id: str, count: int) -> list[str]:
    """The oracle's tuner ids of one tuner's pack members: one ongoing trial each."""
    return [f"{tuner_id}.{index}" for index in range(count)]


def group_for_packs(items: Sequence, group_key, sort_key) -> list[list]:
    """``items`` grouped by ``group_key`` (what members of a pack share: batch size and
    depth), each group in ``sort_key`` order: the queue of one pack."""
    groups = defaultdict(list)
    for item in items:
        groups[group_key(item)].append(item)
    return [sorted(groups[key], key=sort_key) for key in sorted(groups)]


def queue_cost(epochs: Sequence[int], batch_size: int) -> float:
    """A queue's time, roughly: its member-epochs, a batch-16 epoch costing about twice
    a batch-256 one (per-step overhead; an epoch's arithmetic is the same)."""
    return sum(epochs) * (1 + 16 / batch_size)


def depth_of(model: keras.Model) -> int:
    """Dense layers of a packable model (members of a pack share it).

    Raises:
        PackError: The model is not one a pack reproduces.
    """
    return len(dense_layers(model))


class PackedSearch:
    """Runs a tuner's search in packs of ``pack`` trials (``tuner.search`` calls it).

    Args:
        tuner: The :class:`~tfnn.tuning.tuner.TfnnRandomSearch`.
        pack: Trials per pack (> 1).
        window: Trials drawn from the oracle at once, to be grouped into packs.
        print_fn: Where the progress line goes.
        lanes: Packs trained at once, on threads (:mod:`tfnn.tuning.lanes`).
    """

    def __init__(
        self,
        tuner,
        pack: int,
        window: int,
        print_fn: Callable[..., None] = print,
        lanes: int = 1,
    ):
        self.tuner = tuner
        self.pack = pack
        self.window = max(window, 1)
        self.lanes = lanes
        self.print_fn = print_fn
        data = tuner.hypermodel.data
        self.fit_rows = np.arange(len(data.x_fit))
        self.validation_rows = np.arange(len(data.x_validation)) + len(data.x_fit)
        self.x = pack_features(np.concatenate([data.x_fit, data.x_validation]))
        self.y = pack_labels(np.concatenate([data.y_fit, data.y_validation]))
        self.started = time.perf_counter()
        self.done_here = 0

    @property
    def hypermodel(self) -> ConfigHyperModel:
        return self.tuner.hypermodel

    def run(self, callbacks: Sequence[keras.callbacks.Callback]) -> None:
        """Draws windows of trials until the oracle stops, training each in packs."""
        oracle = self.tuner.oracle
        ids = member_ids(self.tuner.tuner_id, self.window)
        while True:
            trials = []
            for tuner_id in ids:
                trial = oracle.create_trial(tuner_id)
                if trial.status == TrialStatus.RUNNING:
                    trials.append(trial)
            if not trials:
                return
            self.run_window(trials, callbacks)

    def run_window(self, trials: list, callbacks) -> None:
        tuner = self.tuner
        keras.backend.clear_session()  # the last window's models
        for trial in trials:
            tuner.on_trial_begin(trial)
        # One queue per batch size (what a pack's steps share), longest first: a
        # pack's tail is then short members filling slots.
        queues = group_for_packs(
            trials,
            group_key=lambda trial: self.config(trial).batch_size,
            sort_key=lambda trial: -self.config(trial).epochs,
        )

        def cost(queue: list) -> float:
            epochs = [self.config(trial).epochs for trial in queue]
            return queue_cost(epochs, self.config(queue[0]).batch_size)

        alone: list = []
        run_in_lanes(
            split_queues(queues, cost, self.lanes),
            lambda queue: self.train_queue(queue, callbacks, alone),
            cost,
            self.lanes,
        )
        for trial in sorted(alone, key=lambda trial: trial.trial_id):
            tuner.last_pack_size = 1
            tuner._try_run_and_update_trial(trial, callbacks=callbacks)
            self.end(trial)
            self.progress()

    def train_queue(self, queue: list, callbacks, alone: list) -> None:
        """Builds ``queue``'s models in its lane (Keras builds take ~30 ms each: one lane
        builds while the other's program runs, giving way between builds so that the
        other lane's turns between its programs do not wait for the whole queue) and
        trains them in packs, one per depth; a model a pack cannot reproduce goes to
        ``alone``, to train after the lanes."""
        built = []
        for trial in queue:
            give_way()
            model = self.hypermodel.build(trial.hyperparameters)
            try:
                built.append((trial, model, depth_of(model)))
            except PackError:
                alone.append(trial)
        for chunk in group_for_packs(
            built, lambda item: item[2], lambda item: -self.config(item[0]).epochs
        ):
            self.train_pack(chunk, callbacks)

    def config(self, trial):
        return self.hypermodel.config_from_hp(trial.hyperparameters)

    def train_pack(self, chunk: list, callbacks) -> None:
        """Trains ``chunk`` (one batch size and depth) as one pack; each member is
        reported and ended as soon as it is done."""
        tuner, members = self.tuner, []
        for trial, model, _ in chunk:
            copies = [*tuner._deepcopy_callbacks(list(callbacks)), *tuner.trial_callbacks(trial)]
            epochs = self.config(trial).epochs
            members.append(
                PackMember(
                    model,
                    epochs,
                    self.fit_rows,
                    self.validation_rows,
                    validation_epochs(epochs),
                    copies,
                )
            )
        trainer = PackTrainer(
            members,
            self.x,
            self.y,
            self.config(chunk[0][0]).batch_size,
            self.hypermodel.tune_config.seed,
            jit_compile=True,
            size=self.pack,
            # Every hidden activation of the space: one program per batch size.
            activations=ACTIVATIONS,
        )
        stop: list[RuntimeError] = []

        def member_end(index: int, result) -> None:
            trial = chunk[index][0]
            self.report(trial, result, result.seconds, trainer.shape.size)
            # Every member ends before keras-tuner's "too many failures in a row"
            # error goes up, so no finished member is lost.
            error = self.end(trial)
            if error is not None:
                stop.append(error)

        trainer.fit(on_member_end=member_end)
        self.progress()
        if stop:
            raise stop[0]

    def report(self, trial, result, seconds: float, pack_size: int) -> None:
        """Tells the oracle what the member measured, as a solo trial's fit would."""
        hypermodel, oracle = self.hypermodel, self.tuner.oracle
        hypermodel.last_fit_seconds = seconds
        hypermodel.last_metrics = result.last
        self.tuner.last_pack_size = pack_size
        if result.failed_epoch is not None:
            config = self.config(trial)
            trial.status = TrialStatus.FAILED
            trial.message = (
                f"the loss became {result.last['loss']} in epoch {result.failed_epoch} "
                f"(learning rate {config.learning_rate:g}, {config.optimizer})"
            )
            return
        metrics = [result.last]
        oracle.update_trial(
            trial.trial_id,
            tuner_utils.convert_to_metrics_dict(metrics, oracle.objective),
            step=tuner_utils.get_best_step(metrics, oracle.objective),
        )
        trial.status = TrialStatus.COMPLETED

    def end(self, trial) -> RuntimeError | None:
        """Ends ``trial`` (its line, its files, the oracle); returns keras-tuner's
        "too many failures" error instead of raising it."""
        self.done_here += 1
        try:
            self.tuner.on_trial_end(trial)
        except RuntimeError as error:
            return error
        return None

    def progress(self) -> None:
        """Trials ended, time so far and a linear estimate of the time left."""
        print_progress(self.tuner.oracle, self.done_here, self.started, self.print_fn)


def print_progress(oracle, done_here: int, started: float, print_fn=print) -> None:
    """``progress: 64 of 160 trials, 12 s, ETA 18 s`` (a worker, which cannot see the
    oracle's trials, counts its own)."""
    elapsed = time.perf_counter() - started
    trials = getattr(oracle, "trials", None)
    total = getattr(oracle, "max_trials", None)
    if trials is None or not total:
        print_fn(f"progress: {done_here} trials here, {elapsed:.0f} s", flush=True)
        return
    ended = sum(
        trial.status in (TrialStatus.COMPLETED, TrialStatus.FAILED) for trial in trials.values()
    )
    eta = elapsed / done_here * max(0, total - ended) if done_here else float("nan")
    print_fn(f"progress: {ended} of {total} trials, {elapsed:.0f} s, ETA {eta:.0f} s", flush=True)
