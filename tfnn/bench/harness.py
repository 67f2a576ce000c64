"""Runs benchmark cases in fresh processes, alternating A/B, and summarises them.

Each repetition is its own process (peak RSS per process via ``os.wait4``); the
first epoch of every process is the warm-up (tracing, XLA compilation) and is
left out of the speed figures. A process's speed is its samples over the wall time
of its other epochs; a variant's is the median over its processes.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time

# name -> (variants to compare, epochs per process, training samples or 0 = all)
# Full mode: epochs so that the measured ones (all but the first) hold whole cycles of
# the figures' cadence (every 4th epoch for digits, every 5th for the dense net).
FULL_PLAN = {
    "digits": (("tfnn", "tfnn-no-images", "keras-defaults", "keras-same-settings"), 9, 0),
    "mnist-dense": (("tfnn", "tfnn-no-images", "keras-defaults", "keras-same-settings"), 11, 0),
    "cnn": (("tfnn", "keras-same-settings"), 3, 0),
    # A user's own model: tfnn.tensorboard.callbacks vs plain fit vs Keras' TensorBoard.
    "callbacks": (("tfnn", "plain-fit", "keras-tensorboard"), 5, 0),
}
QUICK_PLAN = {
    "digits": (("tfnn", "keras-defaults", "keras-same-settings"), 4, 0),
    "mnist-dense": (("tfnn", "keras-defaults", "keras-same-settings"), 3, 20000),
    "cnn": (("tfnn", "keras-same-settings"), 3, 2000),
    "callbacks": (("tfnn", "plain-fit", "keras-tensorboard"), 3, 20000),
}


def run_process(argv: list[str]) -> tuple[str, float, float]:
    """Runs ``argv``; returns (stdout, wall seconds, peak RSS in MiB)."""
    output, wall, peak, _ = run_process_with_cpu(argv)
    return output, wall, peak


def run_process_with_cpu(
    argv: list[str], env: dict[str, str] | None = None
) -> tuple[str, float, float, float]:
    """Runs ``argv`` (in ``env``, default this process's environment); returns (stdout,
    wall seconds, peak RSS in MiB, CPU seconds of the process and the children it
    waited for)."""
    started = time.perf_counter()
    process = subprocess.Popen(
        argv,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={**(os.environ if env is None else env), "TF_CPP_MIN_LOG_LEVEL": "3"},
    )
    output = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed with exit code {process.returncode}")
    cpu_seconds = usage.ru_utime + usage.ru_stime
    return output, time.perf_counter() - started, usage.ru_maxrss / 1024, cpu_seconds


def summarize(values: list[float]) -> dict:
    return {
        "median": round(statistics.median(values), 1),
        "min": round(min(values), 1),
        "max": round(max(values), 1),
        "n": len(values),
    }


def bench_training(name: str, repetitions: int, quick: bool) -> dict:
    """Alternates the variants' processes ``repetitions`` times; samples/s per variant."""
    variants, epochs, samples = (QUICK_PLAN if quick else FULL_PLAN)[name]
    speeds: dict[str, list[float]] = {variant: [] for variant in variants}
    records: dict[str, list[dict]] = {variant: [] for variant in variants}
    for _ in range(repetitions):
        for variant in variants:
            argv = [
                sys.executable,
                "-m",
                "tfnn.bench.cases",
                name,
                variant,
                str(epochs),
                str(samples),
            ]
            output, _, rss = run_process(argv)
            record = json.loads(output.strip().splitlines()[-1])
            record["peak_rss_mib"] = round(rss, 1)
            records[variant].append(record)
            # Over all the measured epochs of the process, not an epoch's median: a median
            # would leave out the epochs that draw the figures.
            measured = record["epoch_times"][1:]
            speeds[variant].append(record["samples_per_epoch"] * len(measured) / sum(measured))
    result = {
        "case": name,
        "epochs_per_process": epochs,
        "train_samples": samples or "all",
        "samples_per_second": {variant: summarize(values) for variant, values in speeds.items()},
        "test_accuracy": {
            variant: round(statistics.median(r["test_accuracy"] for r in runs), 4)
            for variant, runs in records.items()
        },
        "peak_rss_mib": {
            variant: max(r["peak_rss_mib"] for r in runs) for variant, runs in records.items()
        },
    }
    tfnn_speed = result["samples_per_second"]["tfnn"]["median"]
    result["ratios"] = {
        f"tfnn/{variant}": round(tfnn_speed / result["samples_per_second"][variant]["median"], 3)
        for variant in variants
        if variant != "tfnn"
    }
    if {"tfnn-no-images", "keras-same-settings"} <= set(variants):
        speeds = {variant: result["samples_per_second"][variant]["median"] for variant in variants}
        result["ratios"]["tfnn-no-images/keras-same-settings"] = round(
            speeds["tfnn-no-images"] / speeds["keras-same-settings"], 3
        )
    flops = next(
        (
            r["training_flops_per_sample"]
            for runs in records.values()
            for r in runs
            if "training_flops_per_sample" in r
        ),
        None,
    )
    if flops:
        result["training_mflops_per_sample"] = round(flops / 1e6, 2)
        result["achieved_gflops"] = {
            variant: round(result["samples_per_second"][variant]["median"] * flops / 1e9, 2)
            for variant in variants
        }
    return result


def bench_startup(repetitions: int) -> dict:
    """`tfnn --help` and `tfnn train digits --epochs 1`: process wall time and peak RSS."""
    commands = {
        "tfnn --help": [sys.executable, "-m", "tfnn.cli", "--help"],
        "tfnn train digits --epochs 1": [
            sys.executable,
            "-m",
            "tfnn.cli",
            "train",
            "digits",
            "--epochs",
            "1",
            "--embedding-samples",
            "0",
            "--logdir",
            os.path.join("logs", "bench"),
        ],
    }
    result = {}
    for label, argv in commands.items():
        walls, rss = [], []
        for _ in range(repetitions):
            _, wall, peak = run_process(argv)
            walls.append(wall)
            rss.append(peak)
        result[label] = {"peak_rss_mib": round(max(rss), 1)}
        result[label]["wall_s"] = {
            "median": round(statistics.median(walls), 3),
            "min": round(min(walls), 3),
            "max": round(max(walls), 3),
            "n": len(walls),
        }
    return result


TRAINING_CASES = tuple(FULL_PLAN)
