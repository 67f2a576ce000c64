"""One function per part: call the library with the part's settings, say where results went.

Each ``run_<part>(settings, part_dir, print_fn)`` returns its *sources*: the
run, study or project directories whose ``results.json`` (``best.json`` for
the tuner) the report reads back. Nothing here computes a number.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

from tfnn.configs.digits import DIGITS_PRESETS, DigitsConfig
from tfnn.configs.mnist import CNN_PRESETS, CnnConfig
from tfnn.configs.tune import TuneConfig
from tfnn.reproduce.sections import DIGITS_EXTRAS
from tfnn.tuning.project import ended_trial_ids, prepare_project

PrintFunction = Callable[..., None]
TUNE_PROJECT = "tune-digits"


def _quiet(*_, **__) -> None:
    pass


def _progress(print_fn: PrintFunction) -> PrintFunction:
    """A study's one line per run (``[i/n] ...``), without its closing table."""
    return lambda line, **_: print_fn("  " + line) if line.startswith("[") else None


def run_cs587_digits(settings: dict, part_dir: Path, print_fn: PrintFunction) -> dict:
    """The report's Part 2 defaults, the assignment's starter, and the tuned config over seeds."""
    from tfnn.experiments.digits import DIGITS
    from tfnn.experiments.spec import run_experiment

    def train(preset: str, seed: int) -> str:
        config = DigitsConfig(
            **{**DIGITS_PRESETS[preset], **DIGITS_EXTRAS, "seed": seed, "logdir": str(part_dir)}
        )
        results = run_experiment(DIGITS, config, print_fn=_quiet)
        print_fn(
            f"  digits {preset} seed {seed}: test accuracy "
            f"{results['metrics']['test_accuracy']:.4f}",
            flush=True,
        )
        return results["run_dir"]

    return {
        "seed-default": train("seed-default", 0),
        "seed-starter": train("seed-starter", 0),
        "seed-tuned": [train("seed-tuned", seed) for seed in range(settings["seeds"])],
    }


def run_cs587_search(settings: dict, part_dir: Path, print_fn: PrintFunction) -> dict:
    """keras-tuner's random search on the assignment split; continues a killed one."""
    from tfnn.tuning.search import run_search

    config = TuneConfig(
        experiment="digits",
        trials=settings["trials"],
        split=settings["split"],
        max_epochs=settings["max_epochs"],
        project_dir=str(part_dir / TUNE_PROJECT),
    )
    prepare_project(config)

    def trial_lines(line: str, **_) -> None:
        # One line per trial; the best.md the tuner prints at the end is in the project.
        if line.startswith("trial "):
            print_fn("  " + line)

    run_search(config, ended_trial_ids(config.project_path), print_fn=trial_lines)
    return {"project": str(config.project_path)}


def run_vu_mlp(settings: dict, part_dir: Path, print_fn: PrintFunction) -> dict:
    """``tfnn study vu-mlp`` on the activation and width axes."""
    from tfnn.studies.vu_mlp import run_study

    return {"study": str(run_study(logdir=str(part_dir), print_fn=_progress(print_fn), **settings))}


def run_softplus(settings: dict, part_dir: Path, print_fn: PrintFunction) -> dict:
    """``tfnn softplus-net``: the 2-12-5 network on the stand-in rings."""
    from tfnn.autodiff.softplus_net import SoftplusNetConfig
    from tfnn.autodiff.softplus_run import train_softplus_net

    config = SoftplusNetConfig(**settings)
    run_dir = train_softplus_net(config, str(part_dir), print_fn=lambda line: print_fn("  " + line))
    return {"run": str(run_dir)}


def run_eece8740(settings: dict, part_dir: Path, print_fn: PrintFunction) -> dict:
    """``tfnn study dnn-compare``: the two networks with REPORT.md, curves and bars."""
    from tfnn.studies.dnn_compare import run_study

    return {"study": str(run_study(logdir=str(part_dir), print_fn=_progress(print_fn), **settings))}


def run_comp576_moons(settings: dict, part_dir: Path, print_fn: PrintFunction) -> dict:
    """``tfnn study moons``: six networks, their losses and decision boundaries."""
    from tfnn.studies.moons import run_study

    study_dir = run_study(
        logdir=str(part_dir),
        steps=settings["steps"],
        steps_per_epoch=settings.get("steps_per_epoch", 0),
        print_fn=_progress(print_fn),
    )
    return {"study": str(study_dir)}


def run_comp576_cnn(settings: dict, part_dir: Path, print_fn: PrintFunction) -> dict:
    """``tfnn train cnn`` with the assignment's settings (loss curve, statistics, t-SNE)."""
    from tfnn.experiments.mnist import CNN
    from tfnn.experiments.spec import run_experiment

    options = dict(settings)
    preset = CNN_PRESETS[options.pop("preset")]
    config = dataclasses.replace(CnnConfig(**{**preset, **options}), logdir=str(part_dir))
    results = run_experiment(CNN, config, print_fn=_quiet)
    print_fn(f"  cnn: test accuracy {results['metrics']['test_accuracy']:.4f}", flush=True)
    return {"run": results["run_dir"]}


RUNNERS: dict[str, Callable[[dict, Path, PrintFunction], dict]] = {
    "cs587-digits": run_cs587_digits,
    "cs587-search": run_cs587_search,
    "vu-mlp": run_vu_mlp,
    "softplus": run_softplus,
    "eece8740": run_eece8740,
    "comp576-moons": run_comp576_moons,
    "comp576-cnn": run_comp576_cnn,
}
