"""``results.json``: what a run measured, next to its TensorBoard logs."""

from __future__ import annotations

import json
import os
import platform
import sys
from importlib import metadata
from pathlib import Path

from tfnn.files import replaced_whole

RESULTS_FILE = "results.json"


def library_versions() -> dict[str, str]:
    """Versions of Python and the libraries that shape a run's numbers."""
    versions = {"python": platform.python_version()}
    for package in ("tensorflow", "keras", "numpy", "scikit-learn", "keras-tuner", "tfnn"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            continue
    return versions


def write_json(path: str | os.PathLike, content: dict) -> Path:
    """Writes ``content`` to ``path`` atomically (a kill never leaves half a file)."""
    path = Path(path)
    with replaced_whole(path) as file:
        file.write((json.dumps(content, indent=2, sort_keys=True, default=str) + "\n").encode())
    return path


def write_results(run_dir: str | os.PathLike, results: dict) -> Path:
    """Writes a run's ``results.json`` atomically."""
    return write_json(Path(run_dir) / RESULTS_FILE, results)


def read_results(run_dir: str | os.PathLike) -> dict:
    """Reads a run's ``results.json``."""
    return json.loads((Path(run_dir) / RESULTS_FILE).read_text())


def command_line() -> str:
    """The command that started this process, for the record."""
    return " ".join([Path(sys.argv[0]).name, *sys.argv[1:]])
