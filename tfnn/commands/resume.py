"""`--resume RUN_DIR`: which config and directory an interrupted run continues with."""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

from tfnn.errors import ConfigError
from tfnn.evaluate import config_from_results, read_run


def config_to_resume(args: argparse.Namespace, config_class: type):
    """The recorded config of ``args.resume`` and its directory.

    Other settings flags are refused: a resumed run must train exactly as it started.
    """
    given = [
        "--" + field.name.replace("_", "-")
        for field in dataclasses.fields(config_class)
        if getattr(args, field.name, None) is not None
    ]
    if given or getattr(args, "preset", None):
        raise ConfigError(
            "--resume continues with the run's recorded settings: drop "
            + (", ".join(given) or "--preset")
        )
    run_dir = Path(args.resume)
    results = read_run(run_dir)
    if results.get("experiment") != config_class.experiment:
        raise ConfigError(
            f"--resume {str(run_dir)!r} is a {results.get('experiment')!r} run, "
            f"not {config_class.experiment!r}"
        )
    if results.get("status") == "finished":
        raise ConfigError(f"--resume {str(run_dir)!r} has already finished: nothing to resume")
    return config_from_results(results), run_dir
