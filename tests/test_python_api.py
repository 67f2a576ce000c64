"""`tfnn.train`: the command line's experiments as a Python call."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import tfnn

SETTINGS = {"epochs": 2, "seed": 0, "hidden": 32, "images": False, "embedding_samples": 0}


def quiet(*args, **kwargs) -> None:
    pass


def test_import_is_cheap():
    # `import tfnn` loads no TensorFlow; tfnn.tensorboard loads it on first use.
    code = "import sys, tfnn; print('tensorflow' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.strip() == "False", result.stderr


def test_train_equals_the_command_line(tmp_path):
    results = tfnn.train("digits", logdir=tmp_path / "api", print_fn=quiet, **SETTINGS)
    run_dir = Path(results["run_dir"])
    assert run_dir.parent == tmp_path / "api" / "digits"
    assert results["command"].startswith("tfnn.train('digits', ")
    assert json.loads((run_dir / "results.json").read_text())["metrics"] == results["metrics"]

    cli = subprocess.run(
        [
            sys.executable,
            "-m",
            "tfnn",
            "train",
            "digits",
            "--epochs=2",
            "--seed=0",
            "--hidden=32",
            "--no-images",
            "--embedding-samples=0",
            f"--logdir={tmp_path / 'cli'}",
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "TFNN_VERBOSE_TF": ""},
        timeout=300,
    )
    assert cli.returncode == 0, cli.stderr
    # `python -m tfnn` prints none of TensorFlow's C++ start-up lines.
    assert "cuInit" not in cli.stderr and "oneDNN" not in cli.stderr, cli.stderr
    (cli_run,) = (tmp_path / "cli" / "digits").iterdir()
    cli_results = json.loads((cli_run / "results.json").read_text())
    assert cli_results["metrics"] == results["metrics"]

    def layout(directory: Path) -> list[str]:
        return sorted(
            str(path.relative_to(directory))
            for path in directory.rglob("*")
            if not path.name.startswith("events.out.tfevents")
        )

    assert layout(cli_run) == layout(run_dir)


@pytest.mark.parametrize(
    "call, field",
    [
        (dict(experiment="digits", learning_rate=-1.0), "learning_rate"),
        (dict(experiment="digits", hiden=4), "hiden"),
        (dict(experiment="mnist-cnn"), "experiment"),
        (dict(experiment="digits", preset="huge"), "preset"),
    ],
)
def test_bad_values_raise_config_error_naming_the_field(tmp_path, call, field):
    with pytest.raises(tfnn.ConfigError) as error:
        tfnn.train(logdir=tmp_path, print_fn=quiet, **call)
    assert field in str(error.value) and "--" not in str(error.value)
    assert not any(tmp_path.iterdir())  # no run directory for a refused call


def test_tune_returns_best_json(tmp_path):
    project = tmp_path / "search"
    best = tfnn.tune(
        "digits",
        trials=3,
        max_epochs=1,
        rerank_top=0,
        project_dir=str(project),
        print_fn=quiet,
    )
    assert best == json.loads((project / "best.json").read_text())
    with pytest.raises(tfnn.ConfigError) as error:
        tfnn.tune("digits", trails=3, project_dir=str(tmp_path / "other"))
    assert "trails" in str(error.value)
