"""The `tfnn` command line. Parses and validates flags without importing TensorFlow."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

from tfnn import interrupts
from tfnn.cli_flags import add_config_flags, config_from_args
from tfnn.distribute.cluster import end_worker_process, multiworker_task
from tfnn.errors import LogWriteError, TfnnError, write_failure
from tfnn.experiments.registry import EXPERIMENTS, load_experiment
from tfnn.quiet import import_tensorflow_quietly

# Other subcommands: modules with add_parser(commands) and run(args) -> int,
# TensorFlow-free at import time.
COMMAND_MODULES: tuple[str, ...] = (
    "tfnn.commands.tune",
    "tfnn.commands.autodiff",
    "tfnn.commands.study",
    "tfnn.commands.launch",
    "tfnn.commands.reproduce",
)


class OneLineParser(argparse.ArgumentParser):
    """argparse that reports a bad command line as one line, exit code 2."""

    def error(self, message: str):  # noqa: D102 - argparse API
        self.exit(2, f"tfnn: error: {message} (see `{self.prog} --help`)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="tfnn",
        description="Classic neural-network assignments as TensorFlow/Keras experiments "
        "with TensorBoard logs.",
    )
    commands = parser.add_subparsers(dest="command", required=True, parser_class=OneLineParser)

    train = commands.add_parser("train", help="train one experiment")
    experiments = train.add_subparsers(dest="experiment", required=True, parser_class=OneLineParser)
    for name, (config_class, presets, _) in EXPERIMENTS.items():
        sub = experiments.add_parser(name, help=(config_class.__doc__ or "").splitlines()[0])
        if presets:
            sub.add_argument(
                "--preset",
                choices=sorted(presets),
                help="start from a report's settings; explicit flags override it",
            )
        add_config_flags(sub, config_class)
        sub.add_argument(
            "--resume",
            metavar="RUN_DIR",
            help="continue an interrupted run in its own directory, with its recorded settings",
        )

    for module_name in COMMAND_MODULES:
        importlib.import_module(module_name).add_parser(commands)

    evaluate = commands.add_parser("evaluate", help="reload a run's model.keras and test it")
    evaluate.add_argument("run_dir", help="a run directory printed by `tfnn train`")

    board = commands.add_parser("board", help="start TensorBoard on a log root")
    board.add_argument("--logdir", default="logs", help="log root (default: logs)")
    board.add_argument("--port", type=int, default=6006, help="port on 127.0.0.1 (default: 6006)")
    return parser


def _load(target: str):
    module_name, function_name = target.split(":")
    return getattr(importlib.import_module(module_name), function_name)


def print_summary(results: dict) -> None:
    metrics = results["metrics"]
    print(
        f"\n{results['experiment']}: test accuracy {metrics['test_accuracy']:.4f} "
        f"(loss {metrics['test_loss']:.4f}), train accuracy {metrics['train_accuracy']:.4f}, "
        f"{results['epochs_completed']} epochs in {results['train_time_s']:.1f} s "
        f"({results['train_samples_per_second']:.0f} samples/s)"
    )
    run_dir = results["run_dir"]
    print(f"run directory: {run_dir}  (results.json, model.txt, TensorBoard events)")
    print(f"open TensorBoard: tfnn board --logdir {os.path.dirname(os.path.dirname(run_dir))}")
    print(f"            or:   tensorboard --logdir {run_dir}")


def run(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "train":
        config_class, presets, _ = EXPERIMENTS[args.experiment]
        resume_dir = None
        if args.resume:
            from tfnn.commands.resume import config_to_resume

            config, resume_dir = config_to_resume(args, config_class)
        else:
            config = config_from_args(config_class, args, presets)
        multiworker_task(config.strategy)  # a bad TF_CONFIG fails before TensorFlow loads
        import_tensorflow_quietly()
        from tfnn.experiments.spec import run_experiment

        experiment = load_experiment(args.experiment)
        results = run_experiment(experiment, config, resume_dir=resume_dir)
        if "metrics" in results:
            print_summary(results)
        else:  # a multi-worker run's other workers
            print("worker finished; the chief's run directory holds the results")
        if config.strategy == "multiworker":
            end_worker_process()
        return 0
    if args.command == "evaluate":
        import_tensorflow_quietly()
        metrics = _load("tfnn.evaluate:evaluate_run")(args.run_dir)
        print(
            f"{args.run_dir}: test accuracy {metrics['test_accuracy']:.4f} "
            f"(loss {metrics['test_loss']:.4f})"
        )
        return 0
    if args.command == "board":
        return _load("tfnn.board:serve")(args.logdir, args.port)
    for module_name in COMMAND_MODULES:
        module = importlib.import_module(module_name)
        if args.command in getattr(module, "COMMANDS", ()):
            if getattr(module, "NEEDS_TENSORFLOW", True):
                import_tensorflow_quietly()
            return module.run(args)
    raise AssertionError(args.command)


class _WriteFailures:
    """Tells whether a write failed in this process, and keeps the failed writers'
    finalizer noise off stderr: h5py reports every half-written block of a file,
    through both ``sys.excepthook`` (Cython prints the traceback) and
    ``sys.unraisablehook``; the run's own error line says it once."""

    def __init__(self) -> None:
        self.seen = False

    def install(self) -> None:
        default_unraisable, default_except = sys.unraisablehook, sys.excepthook

        def unraisable(info) -> None:
            if not self._swallowed(info.exc_value):
                default_unraisable(info)

        def excepthook(kind, value, traceback) -> None:
            if not self._swallowed(value):
                default_except(kind, value, traceback)

        sys.unraisablehook, sys.excepthook = unraisable, excepthook

    def _swallowed(self, error: BaseException | None) -> bool:
        if error is None or write_failure(error) is None:
            return False
        self.seen = True
        return True


_write_failures = _WriteFailures()


def main(argv: Sequence[str] | None = None) -> int:
    """Runs one `tfnn` command line; returns the exit code."""
    # TensorFlow's C++ start-up chatter (CUDA probing on CPU machines) is noise here.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    # A shell starting us in the background hands SIGINT down as ignored; Ctrl-C (and
    # `kill -INT`) must still stop a run or a board cleanly.
    interrupts.install_handler()
    try:
        return run(argv)
    except TfnnError as error:
        _write_failures.seen |= isinstance(error, LogWriteError)
        print(f"tfnn: error: {error.with_flags()}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        print("tfnn: interrupted; logs written so far are kept", file=sys.stderr)
        return 130
    except Exception as error:
        # A disk that fills up under a search or a study: one line, not a traceback.
        reason = write_failure(error)
        if reason is None:
            raise
        _write_failures.seen = True
        where = getattr(error, "filename", None)
        print(
            f"tfnn: error: a write failed{f' ({where})' if where else ''}: {reason}; free "
            "space or choose another --logdir (finished runs and trials are kept)",
            file=sys.stderr,
        )
        return 2


def console_main() -> None:
    """Entry point of the `tfnn` console script."""
    _write_failures.install()
    code = main()
    if _write_failures.seen:
        # Half-written HDF5 files make h5py's finalizers crash (segfault) at
        # interpreter exit; everything that could be saved is saved, so skip them.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    sys.exit(code)


if __name__ == "__main__":
    console_main()
