"""The cross-validation of the best trials (trials × folds) trained in packs.

Each (configuration, fold) is a pack member that trains on its fold's rows, exactly
as :func:`tfnn.tuning.rerank.cross_validate` trains it alone (same builder, seed,
batch stream and epochs), and is scored on the fold's held-out rows after its last
epoch; members are grouped like the search's (batch size and depth).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import keras
import numpy as np

from tfnn.tuning.hypermodels import ACTIVATIONS
from tfnn.tuning.lanes import run_in_lanes, split_queues
from tfnn.tuning.packed_trials import depth_of, group_for_packs, queue_cost
from tfnn.tuning.packs import PackMember, PackTrainer, pack_features, pack_labels


def cross_validate_packed(
    hypermodel,
    candidates: Sequence[tuple[str, object]],
    x: np.ndarray,
    y: np.ndarray,
    folds: Sequence[tuple[np.ndarray, np.ndarray]],
    pack: int,
    on_done: Callable[[str, tuple, tuple, float], None],
    lanes: int = 1,
) -> None:
    """Cross-validates ``candidates`` ((trial id, hyperparameters)) in packs.

    Args:
        hypermodel: The search's ``ConfigHyperModel``.
        candidates: The configurations to score.
        x: All training features (the folds index into them).
        y: Their labels.
        folds: From :func:`tfnn.tuning.splits.fold_indices`.
        pack: Slots per pack.
        on_done: Called with (trial id, fold accuracies, fold losses, seconds) once a
            configuration's folds are done (NaN for a diverged fold).
        lanes: Packs trained at once, on threads (:mod:`tfnn.tuning.lanes`).

    Raises:
        PackError: A configuration's model cannot pack (before anything trains).
    """
    scores: dict[str, list] = {trial_id: [None] * len(folds) for trial_id, _ in candidates}
    seconds: dict[str, float] = dict.fromkeys(scores, 0.0)
    items = []
    keras.backend.clear_session()
    for trial_id, hp in candidates:
        config = hypermodel.config_from_hp(hp)
        # One model for the configuration's folds: each starts from the same seeded
        # weights, and a pack only reads them (building one costs ~40 ms).
        model = hypermodel.build_for(hp, len(folds[0][0]))
        for fold, (train_index, validation_index) in enumerate(folds):
            member = PackMember(
                model, config.epochs, train_index, validation_index, {config.epochs}
            )
            # depth_of raises PackError before anything trains.
            items.append((trial_id, fold, (config.batch_size, depth_of(model)), member))
    features, labels = pack_features(x), pack_labels(y)

    def train(queue: list) -> None:
        trainer = PackTrainer(
            [item[3] for item in queue],
            features,
            labels,
            queue[0][2][0],
            hypermodel.tune_config.seed,
            jit_compile=True,
            size=pack,
            activations=ACTIVATIONS,  # the search's programs, as compiled
        )

        def member_end(index: int, result) -> None:
            trial_id, fold = queue[index][0], queue[index][1]
            last = result.last
            diverged = result.failed_epoch is not None or not math.isfinite(last["loss"])
            scores[trial_id][fold] = (
                (math.nan, math.nan) if diverged else (last["val_accuracy"], last["val_loss"])
            )
            seconds[trial_id] += result.seconds
            if all(score is not None for score in scores[trial_id]):
                accuracies, losses = zip(*scores[trial_id], strict=True)
                on_done(trial_id, accuracies, losses, seconds[trial_id])

        trainer.fit(on_member_end=member_end)

    queues = group_for_packs(
        items, group_key=lambda item: item[2], sort_key=lambda item: -item[3].epochs
    )

    def cost(queue: list) -> float:
        return queue_cost([item[3].epochs for item in queue], queue[0][2][0])

    run_in_lanes(split_queues(queues, cost, lanes), train, cost, lanes)
