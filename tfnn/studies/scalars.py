"""Per-epoch scalars read back from a run's TensorBoard event files."""

from __future__ import annotations

from pathlib import Path

import tensorflow as tf
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator


def epoch_scalars(run_dir: str | Path, sub_run: str, tag: str) -> list[tuple[int, float]]:
    """``[(epoch, value), ...]`` of one scalar in ``run_dir/sub_run``'s event files.

    A resumed run may repeat an epoch; the last value written for it wins.
    """
    accumulator = EventAccumulator(str(Path(run_dir) / sub_run), size_guidance={"tensors": 0})
    accumulator.Reload()
    if tag not in accumulator.Tags()["tensors"]:
        return []
    values = {
        event.step: float(tf.make_ndarray(event.tensor_proto)) for event in accumulator.Tensors(tag)
    }
    return sorted(values.items())
