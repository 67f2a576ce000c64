"""Every bad input: exit code 2, one line naming the problem, no traceback, nothing written."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tfnn.data.idx import write_idx


def tfnn(*argv: str) -> subprocess.CompletedProcess:
    env = {key: value for key, value in os.environ.items() if key != "TFNN_DATA_DIR"}
    return subprocess.run(
        [sys.executable, "-m", "tfnn.cli", *argv],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )


def assert_one_line_error(result: subprocess.CompletedProcess, fragment: str) -> None:
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("tfnn: error:") and fragment in lines[0], lines[0]
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    "flags, fragment",
    [
        (["--arch", ""], "is not a comma-separated list of integer widths"),
        (["--arch", "150,0"], "--arch 150,0 is not allowed: every width must be an integer >= 1"),
        (["--arch", "150,1.5"], "is not a comma-separated list of integer widths"),
        (["--dropout", "1.5"], "--dropout 1.5 is not allowed"),
        (["--dropout", "-0.1"], "--dropout -0.1 is not allowed"),
        (["--l2", "-1"], "--l2 -1.0 is not allowed"),
        (["--epochs", "0"], "--epochs 0 is not allowed"),
        (["--epochs", "ten"], "'ten' is not an integer"),
        (["--learning-rate", "1e9"], "--learning-rate 1000000000.0 is not allowed"),
        (["--init", "ones"], "--init 'ones' is not allowed"),
        (["--optimizer", "lbfgs"], "--optimizer 'lbfgs' is not allowed"),
        (["--activation", "gelu"], "--activation 'gelu' is not allowed"),
    ],
)
def test_bad_flag_values(flags, fragment, tmp_path):
    assert_one_line_error(tfnn("train", "mnist-dnn", *flags, "--logdir", str(tmp_path)), fragment)
    assert list(tmp_path.iterdir()) == []


def _npz(path: Path, **arrays) -> Path:
    with open(path, "wb") as handle:
        np.savez(handle, **arrays)
    return path


def _good_arrays(n: int = 20) -> dict:
    rng = np.random.default_rng(0)
    return {
        "x_train": rng.integers(0, 256, (n, 28, 28), dtype=np.uint8),
        "y_train": rng.integers(0, 10, n, dtype=np.uint8),
        "x_test": rng.integers(0, 256, (n, 28, 28), dtype=np.uint8),
        "y_test": rng.integers(0, 10, n, dtype=np.uint8),
    }


def bad_data(kind: str, directory: Path) -> Path:
    """Writes one kind of broken MNIST copy into ``directory``; returns the --data path."""
    if kind == "missing":
        return directory / "nowhere" / "mnist.npz"
    if kind == "empty":
        path = directory / "mnist.npz"
        path.write_bytes(b"")
        return path
    if kind == "truncated":
        good = _npz(directory / "good.npz", **_good_arrays()).read_bytes()
        path = directory / "mnist.npz"
        path.write_bytes(good[: len(good) // 2])
        return path
    if kind == "wrong-shape":
        arrays = _good_arrays()
        arrays["x_train"] = arrays["x_train"].reshape(20, 784)
        return _npz(directory / "mnist.npz", **arrays)
    if kind == "labels-out-of-range":
        arrays = _good_arrays()
        arrays["y_test"][3] = 12
        return _npz(directory / "mnist.npz", **arrays)
    if kind == "wrong-idx-magic":
        arrays = _good_arrays()
        names = {
            "train-images-idx3-ubyte": arrays["x_train"],
            "train-labels-idx1-ubyte": arrays["y_train"],
            "t10k-images-idx3-ubyte": arrays["x_test"],
            "t10k-labels-idx1-ubyte": arrays["y_test"],
        }
        for name, array in names.items():
            write_idx(directory / name, array)
        broken = directory / "train-images-idx3-ubyte"
        broken.write_bytes(b"\x12\x34" + broken.read_bytes()[2:])
        return directory
    raise AssertionError(kind)


@pytest.mark.parametrize(
    "kind, fragment",
    [
        ("missing", "nowhere"),
        ("empty", "empty"),
        ("truncated", "mnist.npz"),
        ("wrong-shape", "x_train"),
        ("labels-out-of-range", "y_test"),
        ("wrong-idx-magic", "magic"),
    ],
)
def test_bad_data_files(kind, fragment, tmp_path):
    (tmp_path / "data").mkdir()
    data = bad_data(kind, tmp_path / "data")
    logs = tmp_path / "logs"
    result = tfnn("train", "mnist-dnn", "--data", str(data), "--logdir", str(logs))
    assert_one_line_error(result, fragment)
    assert not logs.exists() or not any(logs.rglob("*"))
