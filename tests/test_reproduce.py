"""`tfnn reproduce`: --only validation, and REPORT.md's tables filled from the runs' files."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tfnn.cli import main
from tfnn.errors import ConfigError
from tfnn.reproduce.report import MANIFEST, REPORT
from tfnn.reproduce.sections import PARTS, select_parts


def table_rows(report: str, heading: str) -> dict[str, list[str]]:
    """The rows of the table under ``### heading``: first cell -> the other cells."""
    section = report.split(f"### {heading}", 1)[1].split("\n### ", 1)[0].split("\n## ", 1)[0]
    rows = {}
    for line in section.splitlines():
        if line.startswith("| ") and not line.startswith("| ---") and not line.startswith("| |"):
            cells = [cell.strip() for cell in line.strip("|").split(" | ")]
            rows[cells[0]] = cells[1:]
    return rows


def numbers(text: str) -> list[float]:
    return [float(match) for match in re.findall(r"\d+\.\d+", text)]


def test_only_accepts_reports_and_parts():
    assert [part.name for part in select_parts([])] == [part.name for part in PARTS]
    assert [part.name for part in select_parts(["comp576"])] == ["comp576-moons", "comp576-cnn"]
    assert [part.name for part in select_parts(["softplus,cs587-digits"])] == [
        "cs587-digits",
        "softplus",
    ]
    with pytest.raises(ConfigError, match="'bogus' is not allowed"):
        select_parts(["softplus", "bogus"])


def test_bogus_only_exits_2_with_one_line_before_tensorflow(tmp_path):
    completed = subprocess.run(
        [sys.executable, "-m", "tfnn.cli", "reproduce", "--only", "bogus", "--logdir", tmp_path],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
    )
    assert completed.returncode == 2
    lines = completed.stderr.strip().splitlines()
    assert len(lines) == 1 and "'bogus' is not allowed" in lines[0] and "cs587" in lines[0]
    assert not list(tmp_path.iterdir())


def test_quick_softplus_and_digits_fill_the_tables_from_results_json(tmp_path, capsys):
    logdir = tmp_path / "logs"
    assert (
        main(["reproduce", "--quick", "--only", "softplus,cs587-digits", "--logdir", str(logdir)])
        == 0
    )
    (out_dir,) = (logdir / "reproduce").iterdir()
    report = (out_dir / REPORT).read_text()
    manifest = json.loads((out_dir / MANIFEST).read_text())
    assert "Quick budgets" in report
    assert set(manifest["parts"]) == {"softplus", "cs587-digits"}

    # softplus: every "we measured" cell is its run's results.json, next to the report's.
    softplus = json.loads(
        (Path(manifest["parts"]["softplus"]["sources"]["run"]) / "results.json").read_text()
    )
    rows = table_rows(report, "the 2-12-5 softplus network")
    for what, key, report_number in (
        ("train accuracy", "train_accuracy", 0.6575),
        ("test accuracy", "test_accuracy", 0.66),
        ("test cross-entropy", "test_cross_entropy", 0.702),
    ):
        said, measured, _, command, note = rows[what]
        assert float(said) == report_number
        assert float(measured) == pytest.approx(softplus["metrics"][key], abs=5e-5)
        assert command == "`tfnn softplus-net --epochs 1000`"
        assert "stand-in" in note

    # cs587-digits: the tuned row is the mean over the seeds' results.json files.
    sources = manifest["parts"]["cs587-digits"]["sources"]
    tuned = [
        json.loads((Path(run_dir) / "results.json").read_text())["metrics"]["test_accuracy"]
        for run_dir in sources["seed-tuned"]
    ]
    assert len(tuned) == 3
    rows = table_rows(
        report, "load_digits: the report's Part 2 defaults and its tuned configuration"
    )
    said, measured, _, command, note = rows["tuned configuration: test accuracy"]
    assert said == "0.9259"
    assert numbers(measured)[0] == pytest.approx(sum(tuned) / 3, abs=5e-5)
    assert numbers(measured)[-1] == pytest.approx(tuned[0], abs=5e-5)
    assert "--preset seed-tuned" in command and note
    default = json.loads((Path(sources["seed-default"]) / "results.json").read_text())
    measured = rows["Part 2 defaults: test accuracy"][1]
    assert numbers(measured)[0] == pytest.approx(default["metrics"]["test_accuracy"], abs=5e-5)
    for figure in re.findall(r"!\[[^]]*\]\(([^)]+)\)", report):
        assert (out_dir / figure).stat().st_size > 1000

    # Resuming skips the recorded parts and keeps the report.
    capsys.readouterr()
    assert main(["reproduce", "--quick", "--only", "softplus", "--resume", str(out_dir)]) == 0
    assert "already recorded, skipped" in capsys.readouterr().out
    assert len(json.loads((out_dir / MANIFEST).read_text())["invocations"]) == 2
    assert main(["reproduce", "--only", "softplus", "--resume", str(out_dir)]) == 2
