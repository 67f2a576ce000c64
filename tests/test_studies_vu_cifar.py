"""`tfnn study vu-mlp`, `tfnn train cifar10` and `tfnn study cifar` at tiny budgets."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from test_data_cifar10 import write_cifar_batches

from tfnn.cli import main
from tfnn.studies.seed_summary import mean_std, verdict


def only_child(directory: Path) -> Path:
    (child,) = [path for path in directory.iterdir() if path.is_dir()]
    return child


def table_rows(markdown: str) -> list[list[str]]:
    """Cells of the Markdown table rows after the header and its separator."""
    rows = [line for line in markdown.splitlines() if line.startswith("| ")]
    return [[cell.strip() for cell in row.strip("|").split("|")] for row in rows[2:]]


@pytest.fixture(scope="module")
def cifar_dir(tmp_path_factory) -> Path:
    """Generated batches: 5 x 40 training and 40 test images of random pixels."""
    directory = tmp_path_factory.mktemp("cifar")
    write_cifar_batches(directory, per_batch=40)
    return directory


@pytest.fixture(autouse=True)
def _no_data_dir(monkeypatch):
    # The loaders must read --data, never a developer's own copy or the network.
    monkeypatch.delenv("TFNN_DATA_DIR", raising=False)


def test_verdict_compares_in_units_of_seed_noise():
    mean, std = mean_std([0.94, 0.96])
    assert mean == pytest.approx(0.95) and std == pytest.approx(0.01414, abs=1e-4)
    assert verdict(mean, std, 0.948) == "within noise"
    assert verdict(mean, std, 0.90).startswith("above the report")
    assert verdict(mean, std, None) == "no number in the report"
    assert math.isnan(mean_std([0.9])[1])
    assert verdict(0.9, math.nan, 0.948) == "no noise estimate (one seed)"


def test_vu_mlp_writes_mean_and_std_per_config(mnist_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("TFNN_DATA_DIR", str(mnist_dir))
    argv = ["study", "vu-mlp", "--only", "activation", "--epochs", "1", "--seeds", "2"]
    assert main([*argv, "--train-samples", "2000", "--logdir", str(tmp_path)]) == 0

    study_dir = only_child(tmp_path / "studies" / "vu-mlp")
    rows = table_rows((study_dir / "summary.md").read_text())
    assert [row[:3] for row in rows] == [
        ["activation", "sigmoid", "2"],
        ["activation", "relu", "2"],
    ]
    for row, report in zip(rows, ("0.948", "0.933"), strict=True):
        assert "±" in row[3] and row[5] == report
    assert (study_dir / "summary.png").read_bytes().startswith(b"\x89PNG")
    results = json.loads((study_dir / "results.json").read_text())
    assert [run["seed"] for run in results["rows"][0]["runs"]] == [0, 1]
    assert all(0 <= row["test_accuracy_mean"] <= 1 for row in results["rows"])
    # Two configs, two seeds each: four ordinary mnist-dnn runs inside the study.
    assert len(list((study_dir / "mnist-dnn").iterdir())) == 4

    # Resumed with a third seed: the four finished runs are reused, two are trained.
    resumed = [*argv[:-1], "3", "--train-samples", "2000", "--resume", str(study_dir)]
    assert main(resumed) == 0
    assert len(list((study_dir / "mnist-dnn").iterdir())) == 6
    again = json.loads((study_dir / "results.json").read_text())
    assert [run["seed"] for run in again["rows"][0]["runs"]] == [0, 1, 2]
    assert again["rows"][0]["runs"][:2] == results["rows"][0]["runs"]


def test_study_resume_refuses_a_directory_that_is_not_such_a_study(tmp_path, capsys):
    assert main(["study", "vu-mlp", "--resume", str(tmp_path)]) == 2
    assert "is not a vu-mlp study directory" in capsys.readouterr().err


def test_train_cifar10_on_generated_batches(cifar_dir, tmp_path):
    argv = ["train", "cifar10", "--data", str(cifar_dir), "--epochs", "1"]
    argv += ["--validation-samples", "20", "--embedding-samples", "20", "--no-images"]
    assert main([*argv, "--logdir", str(tmp_path)]) == 0

    run_dir = only_child(tmp_path / "cifar10")
    results = json.loads((run_dir / "results.json").read_text())
    assert results["status"] == "finished"
    assert (results["train_samples"], results["test_samples"]) == (180, 40)
    # 62,006 weights: conv 456 + 2,416, dense 48,120 + 10,164 + 850.
    assert results["parameters"] == 62_006


def test_cifar_study_compares_the_optimizers(cifar_dir, tmp_path):
    argv = ["study", "cifar", "--only", "optimizer", "--epochs", "1", "--data", str(cifar_dir)]
    assert main([*argv, "--train-samples", "200", "--logdir", str(tmp_path)]) == 0

    study_dir = only_child(tmp_path / "studies" / "cifar")
    rows = table_rows((study_dir / "summary.md").read_text())
    assert [row[:3] for row in rows] == [
        ["optimizer", "adam", "1"],
        ["optimizer", "sgd+momentum", "1"],
    ]
    assert [row[5] for row in rows] == ["0.632", "0.627"]
    assert (study_dir / "summary.png").read_bytes().startswith(b"\x89PNG")
    assert json.loads((study_dir / "results.json").read_text())["study"] == "cifar"
