"""The seed reports, the parts of each that `tfnn reproduce` runs, and their settings.

TensorFlow-free, so ``--only`` is checked before anything heavy loads. A part
is one library call (a study, a few ``tfnn train`` runs, the tuner, the 2-12-5
network) with a full budget (the report's settings, from
``shared/reports/ASSIGNMENTS.md`` where the report is silent) and a quick one
for a smoke check. The commands here are the ``tfnn ...`` lines that reproduce
a part's numbers on their own; they are built from the same settings the part
runs with.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from tfnn.errors import ConfigError

# The settings every cs587-digits run adds to its preset: no Projector/t-SNE and no
# confusion images; they change no number and cost more than the training itself.
DIGITS_EXTRAS = {"embedding_samples": 0, "images": False}


class Report(NamedTuple):
    """One seed report (``shared/reports/<file>``)."""

    title: str
    file: str
    what: str


class Part(NamedTuple):
    """One thing `tfnn reproduce` runs.

    Attributes:
        name: The ``--only`` name (the report's name when the report has one part).
        report: Key of :data:`REPORTS`.
        title: Section heading in REPORT.md.
        full: Settings of the full run (the report's).
        quick: Settings of ``--quick``.
        quick_is_reduced: Whether ``quick`` cuts the budget (its numbers are then
            not comparable with the report's).
    """

    name: str
    report: str
    title: str
    full: dict
    quick: dict
    quick_is_reduced: bool = True

    def settings(self, quick: bool) -> dict:
        return dict(self.quick if quick else self.full)


REPORTS: dict[str, Report] = {
    "cs587": Report(
        "CS-587 (Univ. of Crete) Assignment 2",
        "000_89d7d8ce1f7971bd.txt",
        "load_digits one-hidden-layer network and a random search of 160 configurations",
    ),
    "vu-mlp": Report(
        "Deep Learning (VU Amsterdam) Assignment 2",
        "001_39a50a903a16b602.txt",
        "MNIST MLP: sigmoid vs ReLU and hidden widths ×2/×4/×6 of 784",
    ),
    "softplus": Report(
        "Gradients and automatic differentiation assignment",
        "002_47305fd4cdab2fb6.txt",
        "the 2-12-5 softplus/softmax network trained by hand-written backprop",
    ),
    "eece8740": Report(
        "EECE 8740 (Univ. of Memphis) HW1",
        "003_1d9cada04080a9fd.txt",
        "MNIST DNNs 784-150-120-10 vs 784-500-250-100-10",
    ),
    "comp576": Report(
        "COMP 576 (Rice) Assignment 1",
        "004_e287885f6a6f6fa7.txt",
        "make_moons networks and the 4-layer MNIST CNN with its t-SNE",
    ),
}

PARTS: tuple[Part, ...] = (
    Part(
        "cs587-digits",
        "cs587",
        "load_digits: the report's Part 2 defaults and its tuned configuration",
        # The tuned configuration runs with several seeds: the spread is the noise
        # its 0.9259 is compared against. Every run keeps the report's budget.
        {"seeds": 5},
        {"seeds": 3},
        quick_is_reduced=False,
    ),
    Part(
        "cs587-search",
        "cs587",
        "load_digits: the random search (the report tried 160 configurations)",
        {"trials": 160, "split": "assignment", "max_epochs": 0},
        {"trials": 6, "split": "assignment", "max_epochs": 10},
    ),
    Part(
        "vu-mlp",
        "vu-mlp",
        "MNIST MLP: activation and hidden width",
        {"only": ["activation", "width"], "epochs": 20, "seeds": 3},
        # One seed: a quick run checks the pipeline, not the noise.
        {
            "only": ["activation", "width"],
            "epochs": 20,
            "seeds": 1,
            "steps": 100,
            "train_samples": 5000,
        },
    ),
    Part(
        "softplus",
        "softplus",
        "the 2-12-5 softplus network",
        {"epochs": 1000},
        {"epochs": 1000},
        quick_is_reduced=False,
    ),
    Part(
        "eece8740",
        "eece8740",
        "two dense networks on MNIST",
        {"epochs": 50},
        {"epochs": 50, "steps": 200, "train_samples": 10_000},
    ),
    Part(
        "comp576-moons",
        "comp576",
        "make_moons: final training losses and decision boundaries",
        # The starter code prints the loss every 1,000 of its 20,000 passes, the last
        # after pass 19,000: the report's numbers are the loss after 19,001 steps.
        {"steps": 19_001, "steps_per_epoch": 19_001},
        {"steps": 2000},
    ),
    Part(
        "comp576-cnn",
        "comp576",
        "the 4-layer CNN on MNIST, its loss and t-SNE",
        {"preset": "seed-assignment"},
        {
            "preset": "seed-assignment",
            "steps": 200,
            "train_samples": 5000,
            "validation_samples": 500,
            # Each t-SNE (activations, fc1 weights) and image render costs more than
            # these 200 steps; fewer points and no confusion images keep it short.
            "embedding_samples": 300,
            "images": False,
            "log_every": 10,  # the loss curve needs more than 2 points of 200 steps
        },
    ),
)
PARTS_BY_NAME: dict[str, Part] = {part.name: part for part in PARTS}


def select_parts(only: Sequence[str]) -> list[Part]:
    """The parts named by the ``only`` values (report or part names; comma lists allowed).

    Returns:
        Parts in :data:`PARTS` order; all of them when ``only`` is empty.

    Raises:
        ConfigError: A name that is neither a report nor a part.
    """
    names = [name.strip() for value in only for name in value.split(",") if name.strip()]
    chosen: set[str] = set()
    for name in names:
        if name in REPORTS:
            chosen |= {part.name for part in PARTS if part.report == name}
        elif name in PARTS_BY_NAME:
            chosen.add(name)
        else:
            raise ConfigError(
                f"{{only}} {name!r} is not allowed: choose from "
                + ", ".join(dict.fromkeys([*REPORTS, *PARTS_BY_NAME]))
            )
    return [part for part in PARTS if not names or part.name in chosen]


def flags(values: dict) -> list[str]:
    """``{"train_samples": 5000, "images": False, "only": ["a", "b"]}`` as CLI words."""
    words: list[str] = []
    for name, value in values.items():
        flag = "--" + name.replace("_", "-")
        if isinstance(value, bool):
            words.append(flag if value else "--no-" + flag[2:])
        elif isinstance(value, (list, tuple)):
            for item in value:
                words += [flag, str(item)]
        else:
            words += [flag, str(value)]
    return words


def command(*words: str, options: dict | None = None) -> str:
    """``tfnn WORDS --flag value ...``."""
    return " ".join(["tfnn", *words, *flags(options or {})])


def digits_command(preset: str, seed: int = 0) -> str:
    """One cs587-digits run."""
    return command("train", "digits", "--preset", preset, options={"seed": seed, **DIGITS_EXTRAS})


def digits_seeds_command(preset: str, seeds: int) -> str:
    """Every seed of a cs587-digits configuration, as one shell line."""
    return (
        f"for seed in {' '.join(str(seed) for seed in range(seeds))}; do "
        + digits_command(preset, 0).replace("--seed 0", "--seed $seed")
        + "; done"
    )


def tune_command(settings: dict) -> str:
    """The cs587-search run (flags left at their defaults are left out).

    A project directory of its own: the default one may hold a search on the
    stratified split, which a search on another split may not continue.
    """
    options = {"split": settings["split"], "trials": settings["trials"]}
    if settings.get("max_epochs"):
        options["max_epochs"] = settings["max_epochs"]
    options["project_dir"] = f"logs/tune/digits-{settings['split']}"
    return command("tune", "digits", options=options)


def study_command(study: str, settings: dict) -> str:
    """A ``tfnn study`` run with the part's settings as flags."""
    return command("study", study, options=settings)


def moons_command(preset: str, settings: dict) -> str:
    """One moons network of the comp576-moons part."""
    return command("train", "moons", "--preset", preset, options=settings)


def cnn_command(settings: dict) -> str:
    """The comp576-cnn run."""
    options = dict(settings)
    preset = options.pop("preset")
    return command("train", "cnn", "--preset", preset, options=options)


def softplus_command(settings: dict) -> str:
    """The softplus run."""
    return command("softplus-net", options=settings)
