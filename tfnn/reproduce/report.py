"""Runs the chosen parts into one directory and writes REPORT.md from what they wrote.

``<logdir>/reproduce/<timestamp>-<full|quick>/`` holds one directory per part
(its ordinary run, study or tuner directories), ``reproduce.json`` (each
finished part's settings, sources and wall time) and ``REPORT.md`` with
``figures/``. REPORT.md is rewritten after every part, so an interrupted
reproduction still shows what finished; ``resume`` continues one, skipping
the parts it has recorded.
"""

from __future__ import annotations

import json
import os
import platform
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from tfnn.errors import ConfigError
from tfnn.reproduce.sections import PARTS, REPORTS, Part, select_parts
from tfnn.results import command_line, library_versions, write_json
from tfnn.rundir import create_run_dir

MANIFEST = "reproduce.json"
REPORT = "REPORT.md"
NOT_COVERED = (
    "Not reproduced by this command: the VU report's CIFAR-10 part (`tfnn study cifar`) "
    "and its one- vs two-layer MLP (`tfnn study vu-mlp --only depth`), and the "
    "hand-derived gradients of the CS-587 and EECE 8740 graphs (`tfnn graphs`)."
)


def read_manifest(out_dir: str | os.PathLike) -> dict:
    """The ``reproduce.json`` of a reproduction directory.

    Raises:
        ConfigError: The directory holds none (or an unreadable one).
    """
    path = Path(out_dir) / MANIFEST
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        raise ConfigError(
            f"{{resume}} {str(out_dir)!r}: no readable {MANIFEST} there; give a directory "
            "that `tfnn reproduce` wrote"
        ) from None


def _write_manifest(out_dir: Path, manifest: dict) -> None:
    write_json(out_dir / MANIFEST, manifest)


def reproduce(
    logdir: str = "logs",
    quick: bool = False,
    only: Sequence[str] = (),
    resume: str | None = None,
    print_fn: Callable[..., None] = print,
) -> Path:
    """Runs every chosen part not yet recorded, then writes REPORT.md.

    Args:
        logdir: Log root; a new reproduction goes to ``<logdir>/reproduce/``.
        quick: Reduced budgets (a smoke check; REPORT.md says so).
        only: Report or part names (:func:`select_parts`); empty: all.
        resume: A reproduction directory to continue instead of a new one.
        print_fn: Where progress goes.

    Returns:
        The reproduction directory.

    Raises:
        ConfigError: A bad ``only`` name, or ``resume`` is not a reproduction
            with the same budget.
    """
    parts = select_parts(only)
    if resume:
        out_dir = Path(resume)
        manifest = read_manifest(out_dir)
        if manifest.get("quick") != quick:
            raise ConfigError(
                f"{{resume}} {resume!r} holds a {'quick' if manifest.get('quick') else 'full'} "
                f"reproduction: rerun {'with' if manifest.get('quick') else 'without'} {{quick}}"
            )
    else:
        out_dir = create_run_dir(logdir, "reproduce", "quick" if quick else "full")
        manifest = {"quick": quick, "parts": {}, "invocations": []}
    started = time.perf_counter()
    for index, part in enumerate(parts, start=1):
        if part.name in manifest["parts"]:
            print_fn(f"[{index}/{len(parts)}] {part.name}: already recorded, skipped", flush=True)
            continue
        print_fn(f"[{index}/{len(parts)}] {part.name}: {part.title}", flush=True)
        manifest["parts"][part.name] = run_part(part, quick, out_dir, print_fn)
        _write_manifest(out_dir, manifest)
        write_report(out_dir, manifest)
    manifest["invocations"].append(
        {
            "command": command_line(),
            "parts": [part.name for part in parts],
            "wall_s": round(time.perf_counter() - started, 1),
            "finished": time.strftime("%Y-%m-%d %H:%M:%S"),
        }
    )
    _write_manifest(out_dir, manifest)
    write_report(out_dir, manifest)
    return out_dir


def run_part(part: Part, quick: bool, out_dir: Path, print_fn: Callable[..., None]) -> dict:
    """Runs one part into ``out_dir/<part>``; returns its manifest record."""
    from tfnn.reproduce.runs import RUNNERS

    settings = part.settings(quick)
    part_dir = out_dir / part.name
    part_dir.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    sources = RUNNERS[part.name](settings, part_dir, print_fn)
    wall = time.perf_counter() - started
    print_fn(f"  {part.name}: {wall:.0f} s", flush=True)
    return {"settings": settings, "sources": sources, "wall_s": round(wall, 1)}


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def write_report(out_dir: Path, manifest: dict) -> Path:
    """Writes ``out_dir/REPORT.md`` (and its figures) from the recorded parts."""
    from tfnn.reproduce.rows import BUILDERS, Context

    quick = manifest["quick"]
    records = manifest["parts"]
    lines = header(manifest)
    for key, report in REPORTS.items():
        parts = [part for part in PARTS if part.report == key and part.name in records]
        if not parts:
            continue
        lines += [f"## {report.title}", "", f"`shared/reports/{report.file}`: {report.what}.", ""]
        for part in parts:
            record = records[part.name]
            reduced = quick and part.quick_is_reduced
            lines += [
                f"### {part.title}",
                "",
                f"Part `{part.name}` ({record['wall_s']:.0f} s"
                + (", **quick budget**" if reduced else "")
                + f"); its runs are in `{part.name}/`.",
                "",
            ]
            context = Context(out_dir, record["settings"], record["sources"], reduced, records)
            try:
                built = BUILDERS[part.name](context)
            except (OSError, KeyError, ValueError, IndexError) as error:
                lines += [
                    f"Could not read this part's results: {type(error).__name__}: {error}",
                    "",
                ]
                continue
            lines += [
                "| | report says | we measured | settings | command | note |",
                "| --- | --- | --- | --- | --- | --- |",
                *(
                    f"| {_cell(row.what)} | {_cell(row.report)} | {_cell(row.measured)} | "
                    f"{_cell(row.settings)} | `{_cell(row.command)}` | {_cell(row.note)} |"
                    for row in built.rows
                ),
                "",
            ]
            for caption, path in built.figures:
                lines += [f"![{caption}]({path})", "", f"*{caption}*", ""]
            if built.extra:
                lines += [*built.extra, ""]
    missing = [part.name for part in PARTS if part.name not in records]
    if missing:
        lines += [
            "Not run in this directory: " + ", ".join(missing) + " (`tfnn reproduce "
            f"{'--quick ' if quick else ''}--resume {out_dir} --only NAME` adds them).",
            "",
        ]
    lines += [NOT_COVERED, ""]
    path = out_dir / REPORT
    path.write_text("\n".join(lines))
    return path


def header(manifest: dict) -> list[str]:
    """Title, budget, machine, timing and how to read the tables."""
    versions = library_versions()
    invocations = manifest["invocations"]
    parts_seconds = sum(record["wall_s"] for record in manifest["parts"].values())
    lines = ["# The seed reports' numbers next to ours", ""]
    if manifest["quick"]:
        lines += [
            "**Quick budgets (`--quick`)**: parts marked *quick budget* ran with few steps, "
            "a cut training set or few trials; their numbers show that everything runs and "
            "are not comparable with the reports'. `tfnn reproduce` (without `--quick`) "
            "uses the reports' settings.",
            "",
        ]
    else:
        lines += ["Full budgets: every part runs with its report's settings.", ""]
    lines += [
        f"Written {time.strftime('%Y-%m-%d %H:%M:%S')} on {platform.machine()} "
        f"({os.cpu_count()} CPU cores), Python {versions.get('python')}, TensorFlow "
        f"{versions.get('tensorflow')}, Keras {versions.get('keras')}. Time in the parts: "
        f"{parts_seconds:.0f} s"
        + (
            f"; last invocation `{invocations[-1]['command']}`: {invocations[-1]['wall_s']:.0f} s."
            if invocations
            else "."
        ),
        "",
        "Each row: what the report says; what we measured, read back from the run's "
        "`results.json` (`best.json` for the tuner); the settings; and the `tfnn` command "
        "that reproduces that number on its own (add `--logdir DIR` to choose where it "
        "writes). The note compares: *within seed noise* means the report's number lies "
        "within 2 standard deviations of our seeds' mean; a difference beyond that gets a "
        "reason only where a run here backs it, otherwise *not explained*.",
        "",
    ]
    return lines
