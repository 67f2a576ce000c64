"""Where a tfnn epoch's time goes: milliseconds per epoch in each callback hook.

``python -m tfnn.bench.epoch_costs NAME EPOCHS [SAMPLES]`` trains benchmark case NAME
(``tfnn.bench.cases``) with all of tfnn's logging, as ``scripts/bench`` does, and prints
the epoch time and each callback hook's share of it, the first epoch (tracing) left out.
"""

from __future__ import annotations

import argparse
import functools
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager

import keras

HOOKS = (
    "on_epoch_begin",
    "on_epoch_end",
    "on_train_batch_begin",
    "on_train_batch_end",
    "on_test_begin",
    "on_test_end",
)


@contextmanager
def timed_callbacks(totals: dict[str, float]) -> Iterator[None]:
    """Within it, every ``Model.fit`` adds each callback hook's seconds to ``totals``
    under ``Class.hook``, from the second epoch on (the first traces and compiles)."""
    fit = keras.Model.fit

    def timed(hook, name, epoch_seen):
        @functools.wraps(hook)
        def run(*args, **kwargs):
            started = time.perf_counter()
            try:
                return hook(*args, **kwargs)
            finally:
                if epoch_seen[0] >= 1:
                    totals[name] += time.perf_counter() - started

        return run

    def fit_timing_callbacks(self, *args, callbacks=None, **kwargs):
        epoch_seen = [0]

        class EpochCounter(keras.callbacks.Callback):
            def on_epoch_begin(self, epoch, logs=None):
                epoch_seen[0] = epoch

        callbacks = list(callbacks or [])
        for callback in callbacks:
            for hook in HOOKS:
                name = f"{type(callback).__name__}.{hook}"
                setattr(callback, hook, timed(getattr(callback, hook), name, epoch_seen))
        return fit(self, *args, callbacks=[EpochCounter(), *callbacks], **kwargs)

    keras.Model.fit = fit_timing_callbacks
    try:
        yield
    finally:
        keras.Model.fit = fit


def measure(name: str, epochs: int, samples: int = 0) -> dict:
    """Trains case ``name`` with tfnn's logging; returns the mean epoch time and each
    hook's milliseconds per epoch, epochs after the first."""
    from tfnn.bench.cases import case_config
    from tfnn.experiments.registry import load_experiment
    from tfnn.experiments.spec import run_experiment

    if epochs < 2:
        raise ValueError(f"give at least 2 epochs (the first is left out), not {epochs}")
    totals: dict[str, float] = defaultdict(float)
    with tempfile.TemporaryDirectory() as logdir, timed_callbacks(totals):
        experiment_name, config = case_config(name, epochs, samples, logdir)
        results = run_experiment(
            load_experiment(experiment_name), config, print_fn=lambda *a, **k: None
        )
    measured = results["epoch_times_s"][1:]
    return {
        "epoch_ms": 1000 * sum(measured) / len(measured),
        "hooks_ms": {
            hook: 1000 * seconds / len(measured)
            for hook, seconds in sorted(totals.items(), key=lambda item: -item[1])
        },
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tfnn.bench.epoch_costs")
    parser.add_argument("name", choices=("digits", "mnist-dense", "cnn"))
    parser.add_argument("epochs", type=int)
    parser.add_argument("samples", type=int, nargs="?", default=0)
    args = parser.parse_args(argv)
    if args.epochs < 2:
        parser.error("give at least 2 epochs (the first is left out)")
    costs = measure(args.name, args.epochs, args.samples)
    print(f"{args.name}: {costs['epoch_ms']:.1f} ms an epoch (epochs 2-{args.epochs}), of it:")
    for hook, ms in costs["hooks_ms"].items():
        if ms >= 0.5:  # the rest is the timing itself
            print(f"  {ms:8.2f} ms  {hook}")


if __name__ == "__main__":
    main()
