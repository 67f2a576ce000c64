"""The load_digits experiment end to end, into tmp_path."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tfnn.configs.digits import DIGITS_PRESETS, DigitsConfig
from tfnn.data.digits import load_digits
from tfnn.experiments.digits import run_digits
from tfnn.models.mlp import build_mlp
from tfnn.rundir import create_run_dir

import events


def quiet(*args, **kwargs):
    pass


@pytest.fixture(scope="module")
def short_run(tmp_path_factory):
    """Three epochs of the default network (batch 32: 45 steps an epoch)."""
    logdir = tmp_path_factory.mktemp("logs")
    config = DigitsConfig(epochs=3, log_every=10, stats_every=10, logdir=str(logdir))
    return run_digits(config, print_fn=quiet)


def test_assignment_split_is_first_1500_and_standardized():
    data = load_digits("assignment")
    assert data.x_train.shape == (1500, 64) and data.x_test.shape == (297, 64)
    assert np.allclose(data.x_train.mean(axis=0), 0, atol=1e-5)


def test_stratified_split_is_seeded_and_scaled():
    first, again, other = load_digits(seed=1), load_digits(seed=1), load_digits(seed=2)
    assert np.array_equal(first.y_test, again.y_test)
    assert not np.array_equal(first.y_test, other.y_test)
    assert first.x_train.min() >= 0 and first.x_train.max() <= 1
    assert len(first.x_test) == 360


def test_builder_has_one_hidden_layer_and_softmax_output():
    model = build_mlp((64,), (15,), 10)
    dense = [layer.name for layer in model.layers if hasattr(layer, "kernel")]
    assert dense == ["hidden1", "output"]
    probabilities = model(np.ones((4, 64), np.float32)).numpy()
    assert probabilities.shape == (4, 10)
    assert np.allclose(probabilities.sum(axis=1), 1, atol=1e-5)


def test_short_run_trains_well_above_chance(short_run):
    assert short_run["status"] == "finished"
    assert short_run["metrics"]["test_accuracy"] > 0.85
    assert short_run["epochs_completed"] == 3 and len(short_run["epoch_times_s"]) == 3


def test_results_json_records_config_metrics_and_versions(short_run):
    results = json.loads((events.Path(short_run["run_dir"]) / "results.json").read_text())
    assert results["config"]["hidden"] == 256
    assert set(results["metrics"]) == {"train_loss", "train_accuracy", "test_loss", "test_accuracy"}
    assert {"tensorflow", "keras", "numpy"} <= set(results["versions"])
    assert results["seed"] == 0 and results["wall_time_s"] > 0


def test_epoch_and_step_scalars_for_train_and_test(short_run):
    run_dir = events.Path(short_run["run_dir"])
    train = events.scalars(run_dir / "train")
    test = events.scalars(run_dir / "test")
    assert [step for step, _ in train["epoch_accuracy"]] == [1, 2, 3]
    assert [step for step, _ in test["epoch_loss"]] == [1, 2, 3]
    assert [step for step, _ in train["learning_rate"]] == [1, 2, 3]
    # 45 steps an epoch, 15 per compiled call, logged at the first call past each 10.
    steps = [step for step, _ in train["step_loss"]]
    assert steps == [15, 30, 45, 60, 75, 90, 105, 120, 135]
    losses = [value for _, value in train["step_loss"]]
    assert losses[-1] < losses[0]


def test_op_graph_of_the_training_step_is_written(short_run):
    run_dir = events.Path(short_run["run_dir"])
    ops = events.graph_ops(run_dir / "train")
    assert {"MatMul", "BiasAdd", "Relu", "Softmax"} <= ops
    # The training step, not just inference: gradients and the Adam update are in it.
    assert "ReluGrad" in ops
    assert any("adam" in name.lower() for name in events.graph_node_names(run_dir / "train"))


def test_config_is_written_as_text_and_hparams(short_run):
    run_dir = events.Path(short_run["run_dir"])
    assert {"settings/config", "settings/model"} <= set(events.tensor_tags(run_dir, "text"))
    session = events.hparams_session(run_dir)
    assert session["hidden"] == 256 and session["activation"] == "relu"
    # The test curve's last point is the final evaluation's test accuracy (HParams reads it).
    test_curve = events.scalars(run_dir / "test")["epoch_accuracy"]
    assert test_curve[-1][0] == short_run["epochs_completed"]
    assert test_curve[-1][1] == pytest.approx(short_run["metrics"]["test_accuracy"], abs=1e-6)


def test_layer_statistics_every_n_steps(short_run):
    run_dir = events.Path(short_run["run_dir"])
    histograms = events.histogram_steps(run_dir / "train")
    for tag in (
        "statistics/hidden1/weights",
        "statistics/hidden1/biases",
        "statistics/hidden1/net_inputs",
        "statistics/hidden1/activations",
        "statistics/output/net_inputs",
        "statistics/output/activations",
        "statistics/hidden1/weights_gradient",
    ):
        assert histograms[tag] == [0, 15, 30, 45, 60, 75, 90, 105, 120, 135], tag
    scalar_tags = set(events.scalars(run_dir / "train"))
    assert {
        "statistics/hidden1/weights/mean",
        "statistics/hidden1/weights/std",
        "statistics/hidden1/weights/norm",
        "statistics/hidden1/weights_gradient/norm",
        "statistics/hidden1/activations/max",
        "statistics/hidden1/net_inputs/min",
    } <= scalar_tags


def test_same_seed_gives_identical_metrics(tmp_path):
    config = DigitsConfig(epochs=2, seed=3, logdir=str(tmp_path), layer_statistics=False)
    first = run_digits(config, print_fn=quiet)
    second = run_digits(config, print_fn=quiet)
    assert first["metrics"] == second["metrics"]
    assert first["run_dir"] != second["run_dir"]


def test_run_directories_are_never_reused(tmp_path):
    made = {create_run_dir(tmp_path, "digits", "same-settings") for _ in range(3)}
    assert len(made) == 3
    assert all(path.is_dir() and not any(path.iterdir()) for path in made)


@pytest.mark.parametrize("preset", sorted(DIGITS_PRESETS))
def test_presets_train(preset, tmp_path):
    config = DigitsConfig(
        **{
            **DIGITS_PRESETS[preset],
            "epochs": 2,
            "logdir": str(tmp_path),
            "layer_statistics": False,
        }
    )
    results = run_digits(config, print_fn=quiet)
    assert results["status"] == "finished"
    assert results["test_samples"] == 297
