"""`tfnn study cnn-variants` and `tfnn study dnn-compare` at tiny budgets, into tmp_path."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tfnn.cli import main
from tfnn.errors import ConfigError
from tfnn.studies.cnn_variants import AXES, parse_only
from tfnn.studies.dnn_compare import dense_parameters

import events


def only_child(directory: Path) -> Path:
    (child,) = [path for path in directory.iterdir() if path.is_dir()]
    return child


def table_rows(markdown: str) -> list[list[str]]:
    """Cells of the Markdown table rows after the header and its separator."""
    rows = [line for line in markdown.splitlines() if line.startswith("| ")]
    return [[cell.strip() for cell in row.strip("|").split("|")] for row in rows[2:]]


def test_parse_only_picks_axes_and_values():
    assert parse_only([]) == {axis: list(values) for axis, values in AXES.items()}
    assert parse_only(["optimizer=sgd", "activation=relu,tanh", "optimizer=sgd,adam"]) == {
        "activation": ["relu", "tanh"],
        "optimizer": ["sgd", "adam"],
    }
    assert parse_only(["init"]) == {"init": list(AXES["init"])}


@pytest.mark.parametrize(
    "spec, fragment",
    [("depth=3", "the axis must be one of"), ("activation=swish", "activation values are")],
)
def test_parse_only_rejects_unknown_names(spec, fragment):
    with pytest.raises(ConfigError, match=fragment):
        parse_only([spec])


def test_bad_only_is_refused_before_anything_is_written(tmp_path, capsys):
    assert main(["study", "cnn-variants", "--only", "init=ones", "--logdir", str(tmp_path)]) == 2
    assert capsys.readouterr().err.startswith("tfnn: error: --only 'init=ones'")
    assert not (tmp_path / "studies").exists()


def test_dense_parameters_counts_weights_and_biases():
    # (784 + 1) * 150 + (150 + 1) * 120 + (120 + 1) * 10
    assert dense_parameters((784, 150, 120, 10)) == 117_750 + 18_120 + 1_210


def test_cnn_variants_writes_a_row_per_run_and_the_chart(mnist_dir, tmp_path):
    argv = ["study", "cnn-variants", "--only", "activation=relu,tanh", "--steps", "30"]
    assert main([*argv, "--train-samples", "1500", "--logdir", str(tmp_path)]) == 0
    study_dir = only_child(tmp_path / "studies" / "cnn-variants")
    runs = sorted((study_dir / "cnn").iterdir())
    assert len(runs) == 2  # each variant is its own TensorBoard run inside the study

    rows = table_rows((study_dir / "summary.md").read_text())
    assert [row[:2] for row in rows] == [["activation", "relu (default)"], ["activation", "tanh"]]
    summary = json.loads((study_dir / "results.json").read_text())
    for row, entry in zip(rows, summary["runs"], strict=True):
        run = json.loads((Path(entry["run_dir"]) / "results.json").read_text())
        assert run["config"]["activation"] == entry["value"]
        assert run["config"]["embedding_samples"] == 0 and not run["config"]["images"]
        metrics = run["metrics"]
        assert row[2] == f"{metrics['train_loss']:.4f}"
        assert row[4] == f"{metrics['test_accuracy']:.4f}"
        assert 0.0 <= float(row[3]) <= 1.0
    assert (study_dir / "summary.png").stat().st_size > 5_000
    assert "summary" in events.decoded_images(study_dir)


def test_dnn_compare_reports_both_networks_from_their_runs(mnist_dir, tmp_path):
    argv = ["study", "dnn-compare", "--epochs", "1", "--train-samples", "2000"]
    assert main([*argv, "--logdir", str(tmp_path)]) == 0
    study_dir = only_child(tmp_path / "studies" / "dnn-compare")
    report = (study_dir / "REPORT.md").read_text()
    rows = table_rows(report)
    assert [row[0] for row in rows] == ["784-150-120-10", "784-500-250-100-10"]
    for row, sizes in zip(rows, [(784, 150, 120, 10), (784, 500, 250, 100, 10)], strict=True):
        assert row[1] == f"{dense_parameters(sizes):,}"

    run_dirs = sorted(
        (
            json.loads((run / "results.json").read_text())
            for run in (study_dir / "mnist-dnn").iterdir()
        ),
        key=lambda run: run["parameters"],
    )
    for row, run in zip(rows, run_dirs, strict=True):
        metrics = run["metrics"]
        assert row[1] == f"{run['parameters']:,}"
        assert row[6:8] == [f"{metrics['test_loss']:.4f}", f"{metrics['test_accuracy']:.4f}"]
        assert row[10] == f"{run['train_time_s']:.1f}"
    assert "Our numbers" in report and "not more accurate" in report
    for name in ("curves.png", "bars.png"):
        assert (study_dir / name).stat().st_size > 10_000

    # Reading the same runs back gives the same table, without training.
    from_runs = ",".join(run["run_dir"] for run in reversed(run_dirs))
    assert main(["study", "dnn-compare", "--from", from_runs, "--logdir", str(tmp_path / "b")]) == 0
    again = only_child(tmp_path / "b" / "studies" / "dnn-compare")
    assert table_rows((again / "REPORT.md").read_text()) == rows
    assert not (again / "mnist-dnn").exists()
