"""`tfnn graphs`, `tfnn softplus-net` and `tfnn study moons`, into tmp_path."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tfnn.autodiff.graphs import GRAPH_SIGNATURES
from tfnn.cli import main
from tfnn.configs.moons import MOONS_PRESETS

import events


def run_cli(*argv: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "tfnn.cli", *argv],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
        cwd=cwd,
    )


def only_child(directory: Path) -> Path:
    (child,) = [path for path in directory.iterdir() if path.is_dir()]
    return child


def test_graphs_writes_every_graph_and_prints_the_table(tmp_path):
    result = run_cli("graphs", "--logdir", str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("function")
    assert "log(1+e^x)" in result.stdout and "derivatives agree" in result.stdout
    run_dir = only_child(tmp_path / "graphs")
    assert {path.name for path in run_dir.iterdir()} == set(GRAPH_SIGNATURES)
    assert "Sin" in events.graph_ops(run_dir / "sinc")


@pytest.fixture(scope="module")
def softplus_run(tmp_path_factory) -> Path:
    logdir = tmp_path_factory.mktemp("logs")
    assert main(["softplus-net", "--epochs", "50", "--logdir", str(logdir)]) == 0
    return only_child(logdir / "softplus-net")


def test_softplus_net_writes_loss_curve_and_final_numbers(softplus_run):
    train = events.scalars(softplus_run / "train")
    # The loss before each of the 50 steps, then after the last one.
    assert [step for step, _ in train["epoch_loss"]] == list(range(51))
    assert train["epoch_loss"][-1][1] < train["epoch_loss"][0][1]
    test = events.scalars(softplus_run / "test")
    assert [step for step, _ in test["epoch_accuracy"]] == [50]


def test_softplus_net_writes_images_and_pngs(softplus_run):
    images = events.decoded_images(softplus_run)
    assert set(images) == {"figures/confusion_matrix", "figures/decision_boundary"}
    for name in ("confusion_matrix.png", "decision_boundary.png"):
        assert (softplus_run / name).stat().st_size > 1000


def test_softplus_net_results_json(softplus_run):
    results = json.loads((softplus_run / "results.json").read_text())
    assert results["config"]["epochs"] == 50 and results["parameters"] == 101
    assert set(results["metrics"]) == {
        "train_cross_entropy",
        "train_accuracy",
        "test_cross_entropy",
        "test_accuracy",
    }
    matrix = results["confusion_matrix"]
    assert len(matrix) == 5 and sum(map(sum, matrix)) == results["test_samples"]


def test_study_moons_writes_figure_and_table(tmp_path, capsys):
    assert main(["study", "moons", "--steps", "10", "--logdir", str(tmp_path)]) == 0
    study_dir = only_child(tmp_path / "studies" / "moons")
    assert (study_dir / "decision_boundaries.png").stat().st_size > 10_000
    assert "decision_boundaries" in events.decoded_images(study_dir)
    table = (study_dir / "losses.md").read_text()
    for preset in MOONS_PRESETS:
        assert f"| {preset} |" in table
    assert "0.07879" in table and "not given" in table
    results = json.loads((study_dir / "results.json").read_text())
    assert [run["preset"] for run in results["runs"]] == list(MOONS_PRESETS)
    assert len(list((study_dir / "moons").iterdir())) == len(MOONS_PRESETS)
    assert str(study_dir) in capsys.readouterr().out


@pytest.mark.parametrize(
    "argv, fragment",
    [
        (["softplus-net", "--epochs", "0"], "argument --epochs: 0 is not allowed"),
        (["softplus-net", "--learning-rate", "-1"], "argument --learning-rate: -1 is not"),
        (["graphs", "--seed", "x"], "argument --seed: 'x' is not an integer"),
        (["study", "moons", "--steps", "-5"], "argument --steps: -5 is not allowed"),
        (["study", "nosuch"], "invalid choice: 'nosuch'"),
    ],
)
def test_bad_flags_exit_2_with_one_line(argv, fragment, tmp_path):
    result = run_cli(*argv, cwd=tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("tfnn: error:"), result.stderr
    assert fragment in lines[0]
    assert not (tmp_path / "logs").exists()


def test_study_budget_is_checked_before_anything_is_written(tmp_path, capsys):
    assert main(["study", "moons", "--steps", "2500", "--logdir", str(tmp_path)]) == 2
    error = capsys.readouterr().err.strip()
    assert error.startswith("tfnn: error: --steps 2500 is not allowed") and "\n" not in error
    assert not (tmp_path / "studies").exists()
