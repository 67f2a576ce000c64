"""`tfnn evaluate RUN_DIR`: reload a run's saved model and measure it on the test set."""

from __future__ import annotations

import dataclasses
import json
import typing
from pathlib import Path

from tfnn.errors import ConfigError
from tfnn.experiments.registry import EXPERIMENTS, load_experiment
from tfnn.results import RESULTS_FILE


def config_from_results(results: dict):
    """Rebuilds the frozen config a run recorded (JSON lists back to tuples)."""
    entry = EXPERIMENTS.get(results.get("experiment", ""))
    if entry is None:
        raise ConfigError(f"unknown experiment {results.get('experiment')!r} in {RESULTS_FILE}")
    hints = typing.get_type_hints(entry.config_class)
    values = {}
    for field in dataclasses.fields(entry.config_class):
        if field.name in results["config"]:
            value = results["config"][field.name]
            values[field.name] = tuple(value) if hints[field.name] == tuple[int, ...] else value
    return entry.config_class(**values)


def read_run(run_dir: str | Path) -> dict:
    """``results.json`` of a run directory; ConfigError when it is not a tfnn run."""
    path = Path(run_dir) / RESULTS_FILE
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        raise ConfigError(
            f"{str(run_dir)!r} is not a tfnn run directory (no readable "
            f"{RESULTS_FILE}): give a directory printed by `tfnn train`"
        ) from None


def evaluate_run(run_dir: str | Path) -> dict[str, float]:
    """Test loss and accuracy of the run's ``model.keras`` on its experiment's test set."""
    results = read_run(run_dir)
    model_path = Path(run_dir) / "model.keras"
    if not model_path.is_file():
        raise ConfigError(f"{str(run_dir)!r} has no model.keras (the run did not finish)")
    import keras

    config = config_from_results(results)
    dataset = load_experiment(results["experiment"]).load_data(config)
    model = keras.models.load_model(model_path)
    loss, accuracy = model.evaluate(dataset.x_test, dataset.y_test, batch_size=1024, verbose=0)
    return {"test_loss": float(loss), "test_accuracy": float(accuracy)}
