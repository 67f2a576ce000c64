"""`tfnn study vu-mlp`: the VU DL A2 MNIST MLPs, each setting over several seeds.

VU's vugrad MLP (Linear → sigmoid → Linear → softmax, plain SGD, batch 128,
20 epochs) with one thing changed per axis: the hidden activation, the hidden
width (``hidden_mult`` × 784) and the number of hidden layers. Every config is
trained with ``seeds`` consecutive seeds, so the report's single numbers can be
set against seed-to-seed noise. Writes into
``<logdir>/studies/vu-mlp/<timestamp>-<settings>/``:

- ``mnist-dnn/<run>/``: every run's ordinary ``tfnn train mnist-dnn`` directory;
- ``summary.md``: mean ± std of the accuracies per config, next to the report's;
- ``summary.png`` (also an image summary): the same as bars with error bars;
- ``results.json``: the numbers, per seed too.

The grid and its summary are :mod:`tfnn.studies.grid` and
:mod:`tfnn.studies.seed_summary`, shared with ``tfnn study cifar``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from tfnn.configs.mnist import MNIST_DNN_PRESETS, MnistDnnConfig
from tfnn.errors import ConfigError
from tfnn.experiments.mnist import MNIST_DNN
from tfnn.results import write_results
from tfnn.studies.grid import Variant, chosen_axes, held_out_samples, run_grid, study_dir_to_use
from tfnn.studies.seed_summary import seed_chart, seed_table
from tfnn.tensorboard.images import write_image

INPUT_FEATURES = 784
# Neither the report nor the assignment text states the MLP's learning rate, so
# 0.1 (a common plain-SGD step on a batch-mean loss) is our choice, not theirs.
DEFAULT_LEARNING_RATE = 0.1
# VU DL A2 report (shared/reports/001_39a50a903a16b602.txt): validation accuracy
# after 20 epochs, one run each. The depth experiment gives no numbers, only
# "the 1-layer neural network outperforms the 2-layer neural network".
REPORT_ACCURACY: dict[tuple[str, str], float] = {
    ("activation", "sigmoid"): 0.948,
    ("activation", "relu"): 0.933,
    ("width", "x2"): 0.942,
    ("width", "x4"): 0.940,
    ("width", "x6"): 0.936,
}
# Axis -> value label -> MnistDnnConfig fields; the rest is the vu-mlp preset.
AXES: dict[str, dict[str, dict]] = {
    "activation": {
        name: {"arch": (4 * INPUT_FEATURES,), "activation": name} for name in ("sigmoid", "relu")
    },
    "width": {
        f"x{mult}": {"arch": (mult * INPUT_FEATURES,), "activation": "sigmoid"}
        for mult in (2, 4, 6)
    },
    "depth": {
        f"{layers} hidden": {"arch": (4 * INPUT_FEATURES,) * layers, "activation": "sigmoid"}
        for layers in (1, 2)
    },
}


def run_study(
    logdir: str = "logs",
    steps: int = 0,
    seed: int = 0,
    epochs: int = 20,
    seeds: int = 3,
    train_samples: int = 0,
    learning_rate: float = DEFAULT_LEARNING_RATE,
    only: Sequence[str] = (),
    resume: str = "",
    print_fn: Callable[..., None] = print,
) -> Path:
    """Trains every chosen config over ``seeds`` seeds; writes the summary.

    Args:
        logdir: Log root; the study directory is made under ``studies/vu-mlp``.
        steps: Training steps of each run, replacing ``epochs`` when > 0.
        seed: First seed; the runs of a config use ``seed`` … ``seed + seeds - 1``.
        epochs: Passes over the training set (the report's 20).
        seeds: Runs per config.
        train_samples: Use only the first N training images (0: all); a tenth of
            them (5,000 of all, as in the assignment) is held out for validation.
        learning_rate: Plain SGD's step size (see :data:`DEFAULT_LEARNING_RATE`).
        only: Axes to run (``activation``, ``width``, ``depth``); empty: all.
        resume: An earlier (interrupted) study directory to continue in: runs
            that finished there are reused, the rest are trained.
        print_fn: Where the one line per run and the table go.

    Returns:
        The study directory.
    """
    if seeds < 1:
        raise ConfigError(f"{{seeds}} {seeds} is not allowed: at least 1")
    base = {
        **MNIST_DNN_PRESETS["vu-mlp"],
        "learning_rate": learning_rate,
        "epochs": epochs,
        "steps": steps,
        "train_samples": train_samples,
        "validation_samples": held_out_samples(train_samples),
        "seed": seed,
        # The Projector/t-SNE and image summaries would cost more than a short run.
        "embedding_samples": 0,
        "images": False,
        "logdir": logdir,
    }
    # Every config is built (and validated) before anything is written.
    variants = [
        Variant(
            axis, value, MnistDnnConfig(**{**base, **fields}), REPORT_ACCURACY.get((axis, value))
        )
        for axis in chosen_axes(only, list(AXES))
        for value, fields in AXES[axis].items()
    ]
    budget = f"s{steps}" if steps else f"e{epochs}"
    study_dir = study_dir_to_use(
        resume, logdir, "studies/vu-mlp", f"{budget}-n{train_samples or 'all'}-seeds{seeds}"
    )
    rows = run_grid(MNIST_DNN, variants, seeds, study_dir, print_fn)

    config = variants[0].config
    title = f"VU DL A2 MLP on MNIST, {budget}, {seeds} seed(s): test accuracy"
    chart = seed_chart(rows, title)
    write_image(study_dir, "summary", chart, step=0, png_path=study_dir / "summary.png")
    intro = (
        f"vugrad's MLP in Keras: dense hidden layer(s) of `hidden_mult` × 784 units, softmax "
        f"output; plain SGD with learning rate {config.learning_rate:g} (the report does not "
        f"state its own), batch {config.batch_size}, "
        + (f"{steps} steps" if steps else f"{epochs} epoch(s)")
        + f" on {train_samples or 60_000:,} training images less {config.validation_samples:,} "
        f"held out for validation (seeded random, not the last ones); seeds {seed}–"
        f"{seed + seeds - 1}. Test: the 10,000 test images. The report's numbers are single "
        "runs' validation accuracy after 20 epochs (its depth experiment gives none)."
    )
    table = seed_table("VU DL A2: MNIST MLP settings over seeds", intro, rows)
    (study_dir / "summary.md").write_text(table)
    write_results(
        study_dir,
        {
            "study": "vu-mlp",
            "epochs": epochs,
            "steps": steps,
            "seeds": list(range(seed, seed + seeds)),
            "train_samples": train_samples,
            "learning_rate": learning_rate,
            "rows": rows,
        },
    )
    print_fn("\n" + table)
    return study_dir
