"""The command line: parsing, presets, validation, one-line errors (no TensorFlow import)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tfnn.cli import build_parser
from tfnn.cli_flags import config_from_args
from tfnn.configs.digits import DIGITS_PRESETS, DigitsConfig
from tfnn.errors import ConfigError
from tfnn.experiments.registry import EXPERIMENTS


def parse_digits(*flags: str) -> DigitsConfig:
    args = build_parser().parse_args(["train", "digits", *flags])
    config_class, presets, _ = EXPERIMENTS["digits"]
    return config_from_args(config_class, args, presets)


def run_cli(*argv: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "tfnn.cli", *argv],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
        **kwargs,
    )


def test_defaults_are_the_config_class_defaults():
    assert parse_digits() == DigitsConfig()


def test_flags_reach_the_config():
    config = parse_digits(
        "--hidden",
        "30",
        "--activation",
        "sigmoid",
        "--learning-rate",
        "0.05",
        "--batch-size",
        "64",
        "--epochs",
        "3",
        "--l2",
        "0.001",
        "--optimizer",
        "sgd",
        "--seed",
        "7",
        "--logdir",
        "elsewhere",
        "--no-layer-statistics",
    )
    assert (config.hidden, config.activation, config.learning_rate) == (30, "sigmoid", 0.05)
    assert (config.batch_size, config.epochs, config.l2) == (64, 3, 0.001)
    assert (config.optimizer, config.seed, config.logdir) == ("sgd", 7, "elsewhere")
    assert config.layer_statistics is False


@pytest.mark.parametrize("preset", sorted(DIGITS_PRESETS))
def test_presets_apply_the_report_settings(preset):
    config = parse_digits("--preset", preset)
    for name, value in DIGITS_PRESETS[preset].items():
        assert getattr(config, name) == value
    assert config.split == "assignment"


def test_explicit_flags_override_a_preset():
    config = parse_digits("--preset", "seed-tuned", "--epochs", "2", "--hidden", "7")
    assert (config.epochs, config.hidden) == (2, 7)
    assert config.learning_rate == DIGITS_PRESETS["seed-tuned"]["learning_rate"]


def test_seed_tuned_is_the_reports_best_configuration():
    config = parse_digits("--preset", "seed-tuned")
    assert (config.activation, config.batch_size, config.hidden) == ("sigmoid", 64, 30)
    assert (config.learning_rate, config.l2, config.epochs) == (0.05, 0.001, 20)


@pytest.mark.parametrize(
    "field, value, fragment",
    [
        ("learning_rate", -1.0, "--learning-rate -1.0"),
        ("learning_rate", 0.0, "--learning-rate 0.0"),
        ("learning_rate", float("nan"), "--learning-rate nan"),
        ("batch_size", 0, "--batch-size 0"),
        ("epochs", -3, "--epochs -3"),
        ("hidden", 0, "--hidden 0"),
        ("l2", -0.1, "--l2 -0.1"),
        ("activation", "swish", "choose one of relu, sigmoid, tanh"),
        ("optimizer", "adamw", "choose one of sgd"),
        ("init", "ones", "--init 'ones'"),
    ],
)
def test_config_rejects_bad_values_naming_flag_and_rule(field, value, fragment):
    with pytest.raises(ConfigError) as error:
        DigitsConfig(**{field: value})
    # The library names the field; the command line shows it as a flag.
    assert fragment in error.value.with_flags()
    assert field in str(error.value) and "--" not in str(error.value)
    assert "\n" not in str(error.value)


@pytest.mark.parametrize(
    "argv, fragment",
    [
        (["train", "digits", "--learning-rate", "-1"], "--learning-rate -1.0 is not allowed"),
        (["train", "digits", "--batch-size", "0"], "--batch-size 0 is not allowed"),
        (["train", "digits", "--hidden", "abc"], "argument --hidden: 'abc' is not an integer"),
        (["train", "digits", "--activation", "swish"], "choose one of relu, sigmoid, tanh"),
        (["train", "digits", "--preset", "nope"], "invalid choice: 'nope'"),
        (["train", "digits", "--bogus"], "unrecognized arguments: --bogus"),
        (["train", "nosuch"], "invalid choice: 'nosuch'"),
        (["fly"], "invalid choice: 'fly'"),
    ],
)
def test_bad_command_lines_exit_2_with_one_line(argv, fragment):
    result = run_cli(*argv)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("tfnn: error:")
    assert fragment in lines[0]
    assert "Traceback" not in result.stderr


def test_unwritable_logdir_is_one_line(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    result = run_cli("train", "digits", "--epochs", "1", "--logdir", str(blocker))
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"tfnn: error: --logdir {str(blocker)!r} is a file: give a directory"
    ]


def test_logdir_that_cannot_be_created_is_one_line(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    result = run_cli("train", "digits", "--epochs", "1", "--logdir", str(blocker / "logs"))
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "cannot be created: Not a directory" in lines[0]


def test_help_does_not_import_tensorflow():
    code = (
        "import sys; from tfnn.cli import build_parser; build_parser(); "
        "import tfnn.cli_flags, tfnn.configs; print('tensorflow' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.strip() == "False"


def test_a_full_disk_under_a_study_is_one_line(monkeypatch, capsys):
    import errno

    import tfnn.studies.moons
    from tfnn.cli import main

    def disk_full(**_):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), "logs/studies/moons/x.png")

    monkeypatch.setattr(tfnn.studies.moons, "run_study", disk_full)
    assert main(["study", "moons"]) == 2
    error = capsys.readouterr().err.strip()
    assert error.splitlines() == [error]
    assert error.startswith("tfnn: error: a write failed (logs/studies/moons/x.png): ")
    assert "No space left on device" in error
