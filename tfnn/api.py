"""``tfnn.train`` and ``tfnn.tune``: the command line's experiments as Python calls."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable

from tfnn.errors import ConfigError
from tfnn.experiments.registry import EXPERIMENTS, load_experiment
from tfnn.quiet import import_tensorflow_quietly


def _call_text(function: str, experiment: str, values: dict) -> str:
    """What started the run, for ``results.json``: the call, not a kernel's argv."""
    arguments = [repr(experiment), *(f"{name}={value!r}" for name, value in values.items())]
    return f"{function}({', '.join(arguments)})"


def refuse_unknown(what: str, config_class: type, overrides: dict) -> None:
    """A ConfigError naming the keywords that are not fields of ``config_class``."""
    fields = {field.name for field in dataclasses.fields(config_class)}
    unknown = sorted(set(overrides) - fields)
    if unknown:
        raise ConfigError(
            f"{what} has no setting {', '.join(unknown)}: its settings are "
            + ", ".join(sorted(fields - {"experiment"}))
        )


def experiment_config(experiment: str, preset: str | None = None, **overrides):
    """The frozen config ``tfnn train EXPERIMENT [--preset P] --field value ...`` would use.

    Raises:
        ConfigError: Unknown experiment, preset or field, or a value out of range
            (the message names the field).
    """
    if experiment not in EXPERIMENTS:
        raise ConfigError(
            f"{{experiment}} {experiment!r} is not allowed: choose one of "
            + ", ".join(sorted(EXPERIMENTS))
        )
    config_class, presets, _ = EXPERIMENTS[experiment]
    if preset is not None and preset not in presets:
        raise ConfigError(
            f"{{preset}} {preset!r} is not allowed for {experiment}: choose one of "
            + (", ".join(sorted(presets)) or "(none)")
        )
    refuse_unknown(experiment, config_class, overrides)
    return config_class(**{**(presets[preset] if preset else {}), **overrides})


def train(
    experiment: str,
    *,
    logdir: str | os.PathLike = "logs",
    preset: str | None = None,
    print_fn: Callable[..., None] = print,
    **overrides,
) -> dict:
    """Runs ``tfnn train EXPERIMENT`` from Python and returns its ``results.json`` content.

    The same run as the command line with the same settings: a fresh directory under
    ``logdir/EXPERIMENT/``, the same TensorBoard logs, model and results; the same
    numbers for the same seed. ``results["run_dir"]`` is where they are.

    Args:
        experiment: ``digits``, ``moons``, ``mnist-dnn``, ``cnn`` or ``cifar10``.
        logdir: The log root.
        preset: A named preset of the experiment (its values first, then ``overrides``).
        print_fn: Where progress lines go (``lambda *a, **k: None`` for none).
        **overrides: Config fields, e.g. ``epochs=5, hidden=64, seed=0``.

    Raises:
        tfnn.ConfigError: A bad experiment, preset, field or value (naming the field).
        tfnn.TrainingDiverged: The loss became NaN/Inf (logs and results are kept).
    """
    config = experiment_config(experiment, preset, logdir=str(logdir), **overrides)
    import_tensorflow_quietly()
    from tfnn.experiments.spec import run_experiment

    shown = {**({"preset": preset} if preset else {}), "logdir": str(logdir), **overrides}
    return run_experiment(
        load_experiment(experiment),
        config,
        print_fn=print_fn,
        command=_call_text("tfnn.train", experiment, shown),
    )


def tune(
    experiment: str,
    *,
    print_fn: Callable[..., None] = print,
    **overrides,
) -> dict:
    """Runs (or continues) ``tfnn tune EXPERIMENT`` from Python; returns ``best.json``.

    The same search as the command line with the same settings: keras-tuner's project in
    ``logs/tune/EXPERIMENT`` unless ``project_dir=`` says otherwise, one TensorBoard run
    per trial, the best configuration retrained and tested once.

    Args:
        experiment: ``digits`` or ``mnist-dnn``.
        print_fn: Where the per-trial lines go.
        **overrides: ``TuneConfig`` fields, e.g. ``trials=20, workers=2, seed=0``.

    Raises:
        tfnn.ConfigError: A bad setting (naming the field), or a project directory
            holding another search.
    """
    from tfnn.configs.tune import TuneConfig
    from tfnn.tuning.project import ended_trial_ids, prepare_project

    refuse_unknown("tune", TuneConfig, overrides)
    config = TuneConfig(experiment=experiment, **overrides)
    prepare_project(config)
    from tfnn.tuning import compile_cache

    # Takes effect only before TensorFlow's first op in this process (its flag is read
    # once): in a fresh session, the search's compiled programs are kept on disk.
    compile_cache.enable()
    import_tensorflow_quietly()
    from tfnn.tuning.search import run_search

    return run_search(config, ended_trial_ids(config.project_path), print_fn=print_fn)
