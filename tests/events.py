"""Reading TensorBoard event files back, with TensorBoard's own reader."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import tensorflow as tf
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from tensorboard.plugins.hparams import plugin_data_pb2


def accumulator(logdir: str | Path) -> EventAccumulator:
    acc = EventAccumulator(
        str(logdir), size_guidance={"tensors": 0, "histograms": 0, "images": 0, "scalars": 0}
    )
    acc.Reload()
    return acc


def tensor_tags(logdir, plugin: str) -> list[str]:
    """Tags of one summary kind (``scalars``, ``histograms``, ``images``, ``text``)."""
    acc = accumulator(logdir)
    return [
        tag
        for tag in acc.Tags()["tensors"]
        if acc.SummaryMetadata(tag).plugin_data.plugin_name == plugin
    ]


def scalars(logdir) -> dict[str, list[tuple[int, float]]]:
    """``{tag: [(step, value), ...]}`` for every scalar in ``logdir``."""
    acc = accumulator(logdir)
    return {
        tag: [
            (event.step, float(tf.make_ndarray(event.tensor_proto))) for event in acc.Tensors(tag)
        ]
        for tag in tensor_tags(logdir, "scalars")
    }


def histogram_steps(logdir) -> dict[str, list[int]]:
    """``{tag: [step, ...]}`` for every histogram in ``logdir``."""
    acc = accumulator(logdir)
    return {
        tag: [event.step for event in acc.Tensors(tag)] for tag in tensor_tags(logdir, "histograms")
    }


def graph_ops(logdir) -> set[str]:
    """Op types of the op graph written in ``logdir`` (empty set if none)."""
    acc = accumulator(logdir)
    if not acc.Tags()["graph"]:
        return set()
    return {node.op for node in acc.Graph().node}


def graph_node_names(logdir) -> list[str]:
    acc = accumulator(logdir)
    return [node.name for node in acc.Graph().node] if acc.Tags()["graph"] else []


def hparams_plugin_data(logdir, field: str):
    """The first HParams summary of a run holding ``field`` (``session_start_info``,
    ``experiment``), or None."""
    acc = accumulator(logdir)
    for tag in acc.Tags()["tensors"]:
        metadata = acc.SummaryMetadata(tag)
        if metadata.plugin_data.plugin_name != "hparams":
            continue
        data = plugin_data_pb2.HParamsPluginData.FromString(metadata.plugin_data.content)
        if data.HasField(field):
            return getattr(data, field)
    return None


def hparams_session(logdir) -> dict:
    """The HParams session-start info of a run: ``{name: value}``."""
    session = hparams_plugin_data(logdir, "session_start_info")
    if session is None:
        return {}
    values = session.hparams.items()
    return {name: getattr(value, value.WhichOneof("kind")) for name, value in values}


def decoded_images(logdir) -> dict[str, dict[int, np.ndarray]]:
    """``{tag: {step: image array}}`` for every image summary."""
    acc = accumulator(logdir)
    out: dict[str, dict[int, np.ndarray]] = {}
    for tag in tensor_tags(logdir, "images"):
        for event in acc.Tensors(tag):
            values = tf.make_ndarray(event.tensor_proto)
            out.setdefault(tag, {})[event.step] = tf.io.decode_png(values[2]).numpy()
    return out


def hparams_experiment(logdir) -> tuple[list[str], list[tuple[str, str]]]:
    """The HParams experiment config of a run: (hyperparameter names, metrics as
    ``(group, tag)``), in their declared order."""
    experiment = hparams_plugin_data(logdir, "experiment")
    if experiment is None:
        return [], []
    return (
        [info.name for info in experiment.hparam_infos],
        [(info.name.group, info.name.tag) for info in experiment.metric_infos],
    )
