"""MNIST dense network and the 4-layer CNN, on small subsets of the real data."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf

from tfnn.configs.mnist import CnnConfig, MnistDnnConfig
from tfnn.errors import ConfigError
from tfnn.experiments.mnist import CNN, MNIST_DNN
from tfnn.experiments.spec import run_experiment
from tfnn.models.cnn import build_cnn
from tfnn.tensorboard import projector

import events


def quiet(*args, **kwargs):
    pass


@pytest.fixture(scope="module")
def cnn_run(tmp_path_factory, request):
    """~150 steps of the CNN on 3,000 images."""
    request.getfixturevalue("mnist_dir")
    config = CnnConfig(
        train_samples=3000,
        validation_samples=500,
        steps=150,
        batch_size=32,
        log_every=50,
        stats_every=50,
        embedding_samples=200,
        logdir=str(tmp_path_factory.mktemp("logs")),
    )
    return run_experiment(CNN, config, print_fn=quiet)


def test_cnn_builder_shapes():
    model = build_cnn()
    assert model(np.ones((2, 28, 28, 1), np.float32)).shape == (2, 10)
    assert model.get_layer("pool1").output.shape[1:] == (14, 14, 32)
    assert model.get_layer("pool2").output.shape[1:] == (7, 7, 64)
    assert model.get_layer("fc1").output.shape[1:] == (1024,)
    assert model.count_params() == 3_274_634


def test_arch_is_validated():
    with pytest.raises(ConfigError, match="^arch 150,0 is not allowed") as error:
        MnistDnnConfig(arch=(150, 0))
    assert error.value.fields == ("arch",)
    assert error.value.with_flags().startswith("--arch 150,0 is not allowed")
    with pytest.raises(ConfigError, match="^arch '' is not allowed"):
        MnistDnnConfig(arch=())


def test_dense_network_on_a_subset(mnist_dir, tmp_path):
    config = MnistDnnConfig(
        train_samples=5000,
        validation_samples=500,
        epochs=2,
        logdir=str(tmp_path),
        embedding_samples=0,
    )
    results = run_experiment(MNIST_DNN, config, print_fn=quiet)
    assert results["metrics"]["test_accuracy"] > 0.85
    assert results["validation_samples"] == 500 and results["train_samples"] == 4500
    run_dir = Path(results["run_dir"])
    assert [s for s, _ in events.scalars(run_dir / "validation")["epoch_accuracy"]] == [1, 2]
    # The test set is used once, at the end: one point, beside the validation curve.
    assert [s for s, _ in events.scalars(run_dir / "test")["epoch_accuracy"]] == [2]


def test_cnn_trains_above_90_percent_on_held_out_images(cnn_run):
    assert cnn_run["metrics"]["test_accuracy"] > 0.9
    assert cnn_run["epochs_completed"] == 2 and cnn_run["steps_per_epoch"] == 75


def test_cnn_event_files_hold_graph_and_statistics(cnn_run):
    train = Path(cnn_run["run_dir"]) / "train"
    assert {"Conv2D", "MaxPool", "Conv2DBackpropFilter"} <= events.graph_ops(train)
    histograms = events.histogram_steps(train)
    for tag in (
        "statistics/conv1/weights",
        "statistics/conv1/biases",
        "statistics/conv1/net_inputs",
        "statistics/conv1/activations",
        "statistics/pool1/outputs",
        "statistics/conv2/weights",
        "statistics/conv2/activations",
        "statistics/pool2/outputs",
        "statistics/fc1/activations",
        "statistics/output/net_inputs",
    ):
        assert histograms[tag] == [0, 50, 100, 150], tag
    assert {"statistics/pool2/outputs/max", "statistics/conv1/weights/std"} <= set(
        events.scalars(train)
    )


def test_cnn_projector_and_tsne(cnn_run):
    run_dir = Path(cnn_run["run_dir"])
    # One checkpoint in the run's projector sub-run holds both embeddings (the Projector
    # reads one per run); fc1_act's activations are named fc1.
    reader = tf.train.load_checkpoint(str(run_dir / "projector"))
    assert reader.get_tensor(projector.embedding_key("fc1")).shape == (200, 1024)
    assert reader.get_tensor(projector.embedding_key("fc1_weights")).shape == (1024, 3136)
    assert len((run_dir / "projector/fc1/metadata.tsv").read_text().splitlines()) == 200
    assert "fc1/sprite.png" in (run_dir / "projector/projector_config.pbtxt").read_text()
    assert (run_dir / "tsne.png").stat().st_size > 10_000
    images = events.decoded_images(run_dir)
    assert {"figures/confusion_matrix", "figures/tsne_fc1", "figures/tsne_fc1_weights"} <= set(
        images
    )
    assert (run_dir / "tsne_fc1_weights.png").is_file()


def test_evaluate_reloads_the_saved_model(cnn_run):
    result = subprocess.run(
        [sys.executable, "-m", "tfnn.cli", "evaluate", cnn_run["run_dir"]],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert f"test accuracy {cnn_run['metrics']['test_accuracy']:.4f}" in result.stdout
