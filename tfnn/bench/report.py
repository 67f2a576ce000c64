"""Markdown tables from benchmark JSON records.

``python -m tfnn.bench.report FILE [FILE ...] [--only NAME,NAME]`` prints one block per
record, in the order given (``--only`` keeps the named benchmarks of each record).
``python -m tfnn.bench.report --page docs/bench/*.json > docs/performance.md`` prints the
whole performance page: the newest record of each benchmark under "Current", every
older one under "History".
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def markdown(record: dict, only: set[str] | None = None) -> str:
    """One ``scripts/bench`` record as markdown: its command, machine and tables.

    Args:
        record: What ``scripts/bench`` wrote.
        only: Benchmark names to show (default: all of them).
    """
    machine = record["machine"]
    whole_run = _whole_run(record)
    if only:
        record = {
            **record,
            "benchmarks": {k: v for k, v in record["benchmarks"].items() if k in only},
        }
    lines = [
        f"Measured {record['date']} with `{record['command']}` ({record['mode']} mode) on "
        f"{machine['cpu']}, {machine['cores']} cores, TensorFlow {machine['tensorflow']}, "
        f"Keras {machine['keras']}. Peak FP32: {machine['fp32_peak_gflops']} GFLOP/s "
        f"({machine['derivation']})." + whole_run,
        "",
        "| benchmark | variant | samples/s (median [min-max], n) | test acc | peak RSS MiB |",
        "| --- | --- | --- | --- | --- |",
    ]
    if not any("samples_per_second" in result for result in record["benchmarks"].values()):
        lines = lines[:1]
    ratios = []
    peak = machine["fp32_peak_gflops"]
    for name, result in record["benchmarks"].items():
        if "samples_per_second" not in result:
            continue
        for variant, speed in result["samples_per_second"].items():
            lines.append(
                f"| {name} | {variant} | {speed['median']:.0f} [{speed['min']:.0f}-"
                f"{speed['max']:.0f}], {speed['n']} | {result['test_accuracy'][variant]:.4f} "
                f"| {result['peak_rss_mib'][variant]:.0f} |"
            )
        ratios.append(
            f"- {name}: "
            + ", ".join(f"{key} = {value:.2f}" for key, value in result["ratios"].items())
            + (
                f"; {result['training_mflops_per_sample']} MFLOP per training sample, tfnn at "
                f"{result['achieved_gflops']['tfnn']} GFLOP/s = "
                f"{100 * result['achieved_gflops']['tfnn'] / peak:.1f}% of peak"
                if "achieved_gflops" in result and name == "cnn"
                else ""
            )
        )
    if ratios:
        lines += ["", "Ratios (tfnn with full logging / baseline, samples/s):", *ratios]
    startup = record["benchmarks"].get("startup")
    if startup:
        lines += ["", "| start-up | wall s (median) | peak RSS MiB |", "| --- | --- | --- |"]
        for label, result in startup.items():
            if isinstance(result, dict) and "wall_s" in result:
                wall, rss = result["wall_s"]["median"], result["peak_rss_mib"]
                lines.append(f"| `{label}` | {wall:.3f} | {rss:.0f} |")
    tuner = record["benchmarks"].get("tuner")
    if tuner:
        lines += ["", *tuner_markdown(tuner, machine["cores"])]
    return "\n".join(lines)


def tuner_markdown(result: dict, cores: int) -> list[str]:
    """The tuner benchmark's table, its contention line and its targets."""
    runs = {
        f"`tfnn tune digits` (keras-tuner RandomSearch), {key.replace('=', ' ')}": run
        for key, run in result["tfnn"].items()
    }
    sklearn = result["sklearn"]
    runs[f"scikit-learn `MLPClassifier` + `RandomizedSearchCV`, n_jobs {sklearn['n_jobs']}"] = (
        sklearn
    )
    cap = result["max_epochs"]
    with_cores = any("cores_used" in run for run in runs.values())
    cross_validation = result.get("cross_validation")
    repetitions = result.get("repetitions", 1)
    lines = [
        f"Tuner: {result['trials']} random configurations of the digits network, epochs "
        + ("{10, 20, 40, 80}" if cap == "no cap" else f"capped at {cap}")
        + " (scikit-learn: `max_iter`); selection on the same 288 held-out training "
        "samples"
        + (
            f", then the top {cross_validation['top']} by {cross_validation['folds']}-fold "
            "cross-validation on the same folds of the training split"
            if cross_validation
            else ""
        )
        + "; best retrained on all 1,437 and tested once on 360."
        + (
            f" Times are the median [min-max] of {repetitions} repetitions, the variants "
            "alternating."
            if repetitions > 1
            else ""
        ),
        "",
        "| search | search wall s | cross-validation s | whole command s | trials/min | "
        "ms per member-epoch | pack sizes (trials) | overhead % | "
        "best val acc | best cv acc | test acc | "
        + ("CPU cores it got | " if with_cores else "")
        + "peak RSS MiB |",
        "| --- " * (12 + with_cores) + "|",
    ]
    for label, run in runs.items():
        sizes = run.get("pack_sizes") or {}
        lines.append(
            f"| {label} | {_spread(run, 'search_wall_s', '.1f')} | "
            f"{_spread(run, 'cv_s', '.1f')} | {_spread(run, 'process_wall_s', '.1f')} | "
            f"{_spread(run, 'trials_per_minute', '.1f')} | "
            f"{_spread(run, 'ms_per_member_epoch', '.1f')} | "
            + ", ".join(f"{size} ({count})" for size, count in sizes.items())
            + " | "
            f"{_spread(run, 'overhead_percent', '.1f')} | {run['best_val_accuracy']:.4f} | "
            + (f"{run['best_cv_accuracy']:.4f}" if run.get("best_cv_accuracy") else "")
            + f" | {run['test_accuracy']:.4f}"
            + ("" if run.get("same_choice_every_repetition", True) else " (varied)")
            + " | "
            + (f"{run.get('cores_used', '')} | " if with_cores else "")
            + f"{run['peak_rss_mib']:.0f} |"
        )
    cpu = result.get("cpu")
    if cpu and "other_cores" in cpu:
        lines += [
            "",
            f"While it ran, other jobs kept {cpu['other_cores']:.2f} of the {cores} cores busy "
            f"on average (load average {cpu['load_average_1min'][0]:.1f} → "
            f"{cpu['load_average_1min'][1]:.1f}); the benchmark itself {cpu['bench_cores']:.2f}.",
        ]
    if "targets" in result:
        lines += [
            "",
            "Targets: "
            + "; ".join(
                f"{name}: {'met' if met else 'not met'}" for name, met in result["targets"].items()
            )
            + ".",
        ]
    return lines


def _spread(run: dict, key: str, spec: str) -> str:
    """``median [min-max]`` when the run has repetitions, else the one value."""
    value = run.get(key)
    if value is None:
        return ""
    low, high = run.get("spread", {}).get(key, (value, value))
    text = format(value, spec)
    return text if low == high else f"{text} [{format(low, spec)}-{format(high, spec)}]"


def _whole_run(record: dict) -> str:
    """How long the whole run took and how busy other jobs kept the machine meanwhile."""
    if "total_wall_s" not in record:
        return ""
    cases = [
        result for result in record["benchmarks"].values() if "other_cores" in result.get("cpu", {})
    ]
    text = f" The whole run took {record['total_wall_s']:.0f} s"
    if cases:
        wall = sum(result["bench_wall_s"] for result in cases)
        other = sum(result["cpu"]["other_cores"] * result["bench_wall_s"] for result in cases)
        bench = sum(result["cpu"]["bench_cores"] * result["bench_wall_s"] for result in cases)
        text += (
            f"; other jobs kept {other / wall:.2f} of the {record['machine']['cores']} cores "
            f"busy on average, and the benchmark's processes used {bench:.0f} CPU seconds"
        )
    return text + "."


PAGE_INTRO = """\
`./scripts/bench` (full mode) and `./scripts/bench --quick` (a few minutes) train each
benchmark model with tfnn's runner, all logging on (step scalars, layer statistics,
figures, validation curves; full mode adds `tfnn-no-images`, the same without the
figures), and, alternating in fresh processes, with plain `model.fit`: once with Keras'
defaults on numpy arrays (`keras-defaults`) and once with tfnn's execution settings and
no callbacks (`keras-same-settings`). The first epoch of each process (tracing, XLA) is
left out; a process's speed is its samples over the wall time of its other epochs,
end-of-epoch work (validation, statistics, figures, backup) included. `startup` times
`tfnn --help`, which must not import TensorFlow, and a one-epoch run. `callbacks` fits
a user's own Keras model (the MNIST dense net) with `tfnn.tensorboard.callbacks`, with
plain `model.fit` and with Keras' `TensorBoard(histogram_freq=1, write_graph=True)`.
`tuner` runs the whole `tfnn tune digits` command in one process and (full mode) with
`--workers 2` and with `--pack 1` (one trial at a time; records before 2026-12-02 have
no packs), against scikit-learn's `MLPClassifier` + `RandomizedSearchCV` over the
equivalent space, both selecting on the same held-out images and cross-validating on
the same folds (`tfnn/bench/tuner.py`, `tfnn/bench/sklearn_peer.py`).

Each record names the command that wrote it; run that command with
`--output docs/bench/NAME.json` to measure again, then regenerate this page with the
command above. Where an epoch's time goes, callback hook by callback hook:
`python -m tfnn.bench.epoch_costs NAME EPOCHS [SAMPLES]` (it prints, it keeps no record).
Quick mode cuts the budgets so that CI finishes in minutes: its speeds are a smoke check,
not a measurement to compare."""

HISTORY_INTRO = """\
One-off measurements: every older record of a benchmark, as it was measured, on the code
and machine of its day (a newer record above supersedes it). Running its command today
measures today's code, not these numbers. Records from before 2026-11-30 timed an epoch
without its end-of-epoch callbacks (and took the median epoch), so their tfnn speeds leave
the figures out."""


def page(records: list[tuple[str, dict]], command: str) -> str:
    """The whole performance page: the newest record of each benchmark, then the history.

    Args:
        records: (path, record) pairs, as ``scripts/bench`` wrote them.
        command: The command line that generates the page, quoted at its top.

    Returns:
        Markdown: for each benchmark and mode the newest record (by its date) under
        "Current", every other record's benchmarks under "History", newest first.
    """
    newest: dict[tuple[str, str], str] = {}
    for path, record in sorted(records, key=lambda item: item[1]["date"]):
        for name in record["benchmarks"]:
            newest[(record["mode"], name)] = path
    current, history = [], []
    newest_first = sorted(records, key=lambda item: item[1]["date"], reverse=True)
    # Full mode is the measurement; quick mode (CI's smoke check) comes after it.
    newest_first.sort(key=lambda item: item[1]["mode"] != "full")
    for path, record in newest_first:
        names = list(record["benchmarks"])
        kept = [name for name in names if newest[(record["mode"], name)] == path]
        superseded = [name for name in names if name not in kept]
        if kept:
            current.append(_page_block(path, record, kept))
        if superseded:
            history.append(_page_block(path, record, superseded))
    lines = [
        "# Performance",
        "",
        "<!-- Generated from the benchmark records; do not edit by hand. -->",
        "",
        "Generated from the benchmark records in `docs/bench/` by",
        "",
        "```bash",
        command,
        "```",
        "",
        PAGE_INTRO,
        "",
        "## Current",
        "",
        "The newest record of each benchmark in each mode.",
        *current,
    ]
    if history:
        lines += ["", "## History", "", HISTORY_INTRO, *history]
    return "\n".join(lines) + "\n"


def _page_block(path: str, record: dict, names: list[str]) -> str:
    """One record's heading and tables, kept to the benchmarks ``names``."""
    heading = f"### {', '.join(names)} ({record['mode']} mode, {record['date']})"
    return f"\n{heading}\n\nRecord `{path}`. " + markdown(record, set(names))


def _paths_as_typed(paths: list[str]) -> str:
    """``DIR/*.json`` when ``paths`` are all of DIR's records (what the shell expanded)."""
    folders = {str(Path(path).parent) for path in paths}
    if len(folders) == 1:
        folder = folders.pop()
        if sorted(paths) == sorted(str(p) for p in Path(folder).glob("*.json")):
            return f"{folder}/*.json"
    return " ".join(paths)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tfnn.bench.report")
    parser.add_argument("records", nargs="+", help="JSON records written by scripts/bench")
    parser.add_argument("--only", default="", help="comma-separated benchmark names")
    parser.add_argument(
        "--page",
        action="store_true",
        help="print the whole docs/performance.md: current records, then the history",
    )
    args = parser.parse_args(argv)
    records = [(path, json.loads(open(path).read())) for path in args.records]
    if args.page:
        if args.only:
            parser.error("--page shows every benchmark; drop --only")
        command = f"python -m tfnn.bench.report --page {_paths_as_typed(args.records)}"
        print(page(records, command + " > docs/performance.md"), end="")
        return
    only = {name for name in args.only.split(",") if name} or None
    print("\n\n".join(markdown(record, only) for _, record in records))


if __name__ == "__main__":
    main()
