"""No TensorFlow C++ start-up line reaches a user, from any entry point."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

# What TensorFlow 2.21 prints to stderr while it loads on a CPU machine.
START_UP_LINES = ("cuInit", "oneDNN custom operations", "cudart_stub", "absl::InitializeLog")


def run(*argv: str) -> subprocess.CompletedProcess:
    # A user's environment: none of the variables that silence TensorFlow.
    env = {k: v for k, v in os.environ.items() if k not in ("TF_CPP_MIN_LOG_LEVEL",)}
    env.pop("TFNN_VERBOSE_TF", None)
    return subprocess.run(
        [sys.executable, *argv], capture_output=True, text=True, timeout=300, env=env
    )


@pytest.mark.parametrize(
    "argv",
    [
        ("-m", "tfnn", "softplus-net", "--epochs", "3"),
        ("-m", "tfnn", "graphs"),
        ("-m", "tfnn.cli", "train", "digits", "--epochs", "1", "--hidden", "8", "--no-images"),
        ("-c", "import tfnn; tfnn.tensorboard.callbacks('{logdir}/mine')"),
    ],
    ids=["softplus-net", "graphs", "train", "python-api"],
)
def test_no_start_up_lines(tmp_path, argv):
    argv = [part.replace("{logdir}", str(tmp_path)) for part in argv]
    if argv[0] == "-m":
        argv += ["--logdir", str(tmp_path)]
    result = run(*argv)
    assert result.returncode == 0, result.stderr[-2000:]
    leaked = [line for line in result.stderr.splitlines() if any(s in line for s in START_UP_LINES)]
    assert leaked == []
