"""A run's configuration as text and as HParams, so runs compare in one table."""

from __future__ import annotations

import json

import tensorflow as tf
from tensorboard.plugins.hparams import api as hp

from tfnn.tensorboard.scalars import RunWriters


def hparam_value(value):
    """HParams accepts bool, int, float and str only; tuples become '150,120'."""
    if isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (tuple, list)):
        return ",".join(str(item) for item in value)
    return str(value)


def write_config(writers: RunWriters, config: dict, run_name: str) -> None:
    """Writes ``config`` as a Markdown text summary and as an HParams session.

    The session lives in the run's root; TensorBoard pairs it with the
    ``train``/``test`` sub-runs' scalars and with the ``final_*`` scalars
    written by :func:`write_final_metrics`.
    """
    with writers[""].as_default(step=0):
        text = "```json\n" + json.dumps(config, indent=2, sort_keys=True) + "\n```"
        tf.summary.text("config", text)
        hp.hparams({key: hparam_value(value) for key, value in config.items()}, trial_id=run_name)
    writers.flush()


def write_final_metrics(writers: RunWriters, metrics: dict[str, float], step: int) -> None:
    """Final numbers (``final_test_accuracy`` ...) as root scalars for the HParams table."""
    with writers[""].as_default(step=step):
        for name, value in metrics.items():
            tf.summary.scalar(f"final_{name}", float(value))
    writers.flush()
