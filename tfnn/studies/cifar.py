"""`tfnn study cifar`: the VU DL A2 CIFAR-10 studies with the blitz CNN.

From the ``tfnn train cifar10`` defaults (SGD with momentum 0.9, learning rate
0.003, batch 50) one setting is varied per axis: batch size, learning rate and
optimizer (Adam vs SGD). Each config runs over ``seeds`` seeds. Writes into
``<logdir>/studies/cifar/<timestamp>-<settings>/`` the runs (``cifar10/<run>/``),
``summary.md``, ``summary.png`` and ``results.json`` as ``tfnn study vu-mlp`` does.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from tfnn.configs.cifar import Cifar10Config
from tfnn.errors import ConfigError
from tfnn.experiments.cifar import CIFAR10
from tfnn.results import write_results
from tfnn.studies.grid import Variant, chosen_axes, held_out_samples, run_grid, study_dir_to_use
from tfnn.studies.seed_summary import seed_chart, seed_table
from tfnn.tensorboard.images import write_image

# VU DL A2 report (shared/reports/001_39a50a903a16b602.txt): the best epoch's
# validation accuracy of single runs, after 14-50 epochs. Only these are given.
REPORT_ACCURACY: dict[tuple[str, str], float] = {
    ("batch", "50"): 0.633,  # after 46 epochs
    ("lr", "0.003"): 0.651,  # after 20 epochs
    ("optimizer", "adam"): 0.632,  # after 14 of 50 epochs
    ("optimizer", "sgd+momentum"): 0.627,  # after 50 epochs
}
# Axis -> value label -> Cifar10Config fields changed from its defaults.
AXES: dict[str, dict[str, dict]] = {
    "batch": {str(size): {"batch_size": size} for size in (25, 50, 100, 200, 300)},
    "lr": {f"{rate:g}": {"learning_rate": rate} for rate in (0.001, 0.003, 0.01, 0.1)},
    "optimizer": {"adam": {"optimizer": "adam"}, "sgd+momentum": {"optimizer": "momentum"}},
}


def run_study(
    logdir: str = "logs",
    steps: int = 0,
    seed: int = 0,
    epochs: int = 20,
    seeds: int = 1,
    train_samples: int = 0,
    data: str = "",
    only: Sequence[str] = (),
    resume: str = "",
    print_fn: Callable[..., None] = print,
) -> Path:
    """Trains every chosen config over ``seeds`` seeds; writes the summary.

    Args:
        logdir: Log root; the study directory is made under ``studies/cifar``.
        steps: Training steps of each run, replacing ``epochs`` when > 0.
        seed: First seed; a config's runs use ``seed`` … ``seed + seeds - 1``.
        epochs: Passes over the training set.
        seeds: Runs per config.
        train_samples: Use only the first N training images (0: all 50,000); a
            tenth of them (5,000 of all) is held out for validation.
        data: CIFAR-10 location (see ``load_cifar10``); empty: $TFNN_DATA_DIR or download.
        only: Axes to run (``batch``, ``lr``, ``optimizer``); empty: all.
        resume: An earlier (interrupted) study directory to continue in.
        print_fn: Where the one line per run and the table go.

    Returns:
        The study directory.
    """
    if seeds < 1:
        raise ConfigError(f"{{seeds}} {seeds} is not allowed: at least 1")
    base = dict(
        epochs=epochs,
        steps=steps,
        train_samples=train_samples,
        validation_samples=held_out_samples(train_samples),
        data=data,
        seed=seed,
        embedding_samples=0,
        images=False,
        logdir=logdir,
    )
    variants = [
        Variant(axis, value, Cifar10Config(**base, **fields), REPORT_ACCURACY.get((axis, value)))
        for axis in chosen_axes(only, list(AXES))
        for value, fields in AXES[axis].items()
    ]
    budget = f"s{steps}" if steps else f"e{epochs}"
    study_dir = study_dir_to_use(
        resume, logdir, "studies/cifar", f"{budget}-n{train_samples or 'all'}-seeds{seeds}"
    )
    rows = run_grid(CIFAR10, variants, seeds, study_dir, print_fn)

    default = Cifar10Config()
    title = f"Blitz CNN on CIFAR-10, {budget}, {seeds} seed(s): test accuracy"
    chart = seed_chart(rows, title)
    write_image(study_dir, "summary", chart, step=0, png_path=study_dir / "summary.png")
    intro = (
        "The PyTorch 60-minute-blitz CNN (conv 5x5x6, pool, conv 5x5x16, pool, dense 120, "
        f"84, 10) in Keras. Default: {default.optimizer} (SGD, momentum 0.9), learning rate "
        f"{default.learning_rate:g}, batch {default.batch_size}; each row changes one setting. "
        + (f"{steps} steps" if steps else f"{epochs} epoch(s)")
        + f" on {train_samples or 50_000:,} training images less "
        f"{held_out_samples(train_samples):,} held out for validation; seeds {seed}–"
        f"{seed + seeds - 1}. Test: the test batch. The report's numbers are single runs' "
        "best-epoch validation accuracy after 14-50 epochs, so they only compare at its budget."
    )
    table = seed_table("VU DL A2: CIFAR-10 settings over seeds", intro, rows)
    (study_dir / "summary.md").write_text(table)
    write_results(
        study_dir,
        {
            "study": "cifar",
            "epochs": epochs,
            "steps": steps,
            "seeds": list(range(seed, seed + seeds)),
            "train_samples": train_samples,
            "rows": rows,
        },
    )
    print_fn("\n" + table)
    return study_dir
