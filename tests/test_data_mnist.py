"""Tests for the IDX reader and the MNIST loader (small generated files, no network)."""

from __future__ import annotations

import gzip
import os
import sys
import types
from pathlib import Path

import numpy as np
import pytest

from tfnn.data.idx import read_idx, write_idx
from tfnn.data.mnist import IDX_NAMES, load_mnist
from tfnn.errors import DataError

# Read at import time: the autouse fixture below clears the variable for every test.
REAL_DATA_DIR = os.environ.get("TFNN_DATA_DIR")


def _fake_keras(monkeypatch: pytest.MonkeyPatch, load_data) -> None:
    # A stand-in module, so tests neither import TensorFlow nor touch the network.
    mnist = types.SimpleNamespace(load_data=load_data)
    monkeypatch.setitem(
        sys.modules, "keras", types.SimpleNamespace(datasets=types.SimpleNamespace(mnist=mnist))
    )


def _offline() -> None:
    raise OSError("URL fetch failure on https://example.invalid/mnist.npz:\n no network")


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TFNN_DATA_DIR", raising=False)
    _fake_keras(monkeypatch, _offline)


def _arrays(n_train: int = 6, n_test: int = 4) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    return {
        "x_train": rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        "y_train": (np.arange(n_train) % 10).astype(np.uint8),
        "x_test": rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        "y_test": (np.arange(n_test)[::-1] % 10).astype(np.uint8),
    }


def _write_npz(path: Path, **overrides) -> dict[str, np.ndarray]:
    arrays = {**_arrays(), **overrides}
    arrays = {key: value for key, value in arrays.items() if value is not None}
    np.savez(path, **arrays)
    return arrays


def _write_idx_dir(directory: Path, suffix: str = "", **overrides) -> dict[str, np.ndarray]:
    arrays = {**_arrays(), **overrides}
    for key, name in IDX_NAMES.items():
        write_idx(directory / f"{name}{suffix}", arrays[key])
    return arrays


def _assert_matches(data, arrays: dict[str, np.ndarray]) -> None:
    assert (data.name, data.num_classes, data.image_shape) == ("mnist", 10, (28, 28))
    for split in ("train", "test"):
        x, y = getattr(data, f"x_{split}"), getattr(data, f"y_{split}")
        assert x.dtype == np.float32 and y.dtype == np.int64
        np.testing.assert_allclose(x * 255, arrays[f"x_{split}"], atol=1e-4)
        np.testing.assert_array_equal(y, arrays[f"y_{split}"])
        assert 0.0 <= x.min() and x.max() <= 1.0


def _raises_data_error(path: Path, fragment: str, name: str | None = None) -> None:
    with pytest.raises(DataError) as info:
        load_mnist(path)
    message = str(info.value)
    assert "\n" not in message
    assert (name or path.name) in message
    assert fragment in message


# --- IDX reader ----------------------------------------------------------------------


@pytest.mark.parametrize("dtype", ["u1", "i1", "i2", "i4", "f4", "f8"])
@pytest.mark.parametrize("suffix", ["", ".gz"])
def test_idx_round_trip(tmp_path: Path, dtype: str, suffix: str) -> None:
    array = (np.arange(24) - 5).reshape(2, 3, 4).astype(dtype)
    back = read_idx(write_idx(tmp_path / f"a{suffix}", array))
    assert back.dtype == array.dtype
    np.testing.assert_array_equal(back, array)


def test_idx_mnist_magic_numbers(tmp_path: Path) -> None:
    images = write_idx(tmp_path / "images", np.zeros((2, 28, 28), np.uint8))
    labels = write_idx(tmp_path / "labels", np.zeros(2, np.uint8))
    assert images.read_bytes()[:4] == b"\x00\x00\x08\x03"
    assert labels.read_bytes()[:4] == b"\x00\x00\x08\x01"


def test_idx_gzip_detected_by_content(tmp_path: Path) -> None:
    plain = write_idx(tmp_path / "a", np.arange(5, dtype=np.uint8)).read_bytes()
    (tmp_path / "b").write_bytes(gzip.compress(plain))
    np.testing.assert_array_equal(read_idx(tmp_path / "b"), np.arange(5))


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (b"", "empty"),
        (b"\x00\x00", "too short"),
        (b"\x01\x00\x08\x01\x00\x00\x00\x01\x07", "magic"),
        (b"\x00\x00\x07\x01\x00\x00\x00\x01\x07", "magic"),
        (b"\x00\x00\x08\x00", "magic"),
        (b"\x00\x00\x08\x03\x00\x00\x00\x02", "truncated IDX header"),
        (b"\x00\x00\x08\x01\x00\x00\x00\x03\x01\x02", "truncated"),
        (b"\x00\x00\x08\x01\x00\x00\x00\x01\x01\x02", "trailing bytes"),
        (gzip.compress(b"\x00\x00\x08\x01\x00\x00\x00\x01\x01")[:-6], "cannot read"),
    ],
)
def test_idx_rejects_bad_files(tmp_path: Path, content: bytes, fragment: str) -> None:
    path = tmp_path / "bad-idx1-ubyte"
    path.write_bytes(content)
    with pytest.raises(DataError, match=fragment) as info:
        read_idx(path)
    assert "bad-idx1-ubyte" in str(info.value)


def test_idx_missing_file(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="no such file"):
        read_idx(tmp_path / "nothing")


def test_write_idx_rejects_unsupported_dtype(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="uint16"):
        write_idx(tmp_path / "a", np.zeros(2, np.uint16))


# --- MNIST from local files ----------------------------------------------------------


def test_npz_file_round_trip(tmp_path: Path) -> None:
    arrays = _write_npz(tmp_path / "mnist.npz")
    data = load_mnist(tmp_path / "mnist.npz")
    _assert_matches(data, arrays)
    assert data.x_train.shape == (6, 28, 28) and data.input_shape == (28, 28)


def test_npz_file_with_any_name_and_str_path(tmp_path: Path) -> None:
    arrays = _write_npz(tmp_path / "digits.npz")
    _assert_matches(load_mnist(str(tmp_path / "digits.npz")), arrays)


def test_directory_with_npz(tmp_path: Path) -> None:
    arrays = _write_npz(tmp_path / "mnist.npz")
    _assert_matches(load_mnist(tmp_path), arrays)


@pytest.mark.parametrize("suffix", ["", ".gz"])
def test_idx_directory_round_trip(tmp_path: Path, suffix: str) -> None:
    arrays = _write_idx_dir(tmp_path, suffix)
    _assert_matches(load_mnist(tmp_path), arrays)


def test_idx_directory_mixed_plain_and_gzip(tmp_path: Path) -> None:
    arrays = _write_idx_dir(tmp_path)
    train_images = tmp_path / IDX_NAMES["x_train"]
    write_idx(train_images.with_name(train_images.name + ".gz"), arrays["x_train"])
    train_images.unlink()
    _assert_matches(load_mnist(tmp_path), arrays)


def test_wider_integer_pixels_are_accepted(tmp_path: Path) -> None:
    arrays = _write_npz(tmp_path / "mnist.npz", x_test=np.full((4, 28, 28), 255, np.int64))
    _assert_matches(load_mnist(tmp_path / "mnist.npz"), arrays)


# --- Resolution order and download fallback -----------------------------------------


def test_env_var_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    arrays = _write_idx_dir(tmp_path, ".gz")
    monkeypatch.setenv("TFNN_DATA_DIR", str(tmp_path))
    _assert_matches(load_mnist(), arrays)


def test_explicit_path_beats_env_var(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    arrays = _write_npz(tmp_path / "mnist.npz")
    monkeypatch.setenv("TFNN_DATA_DIR", str(tmp_path / "does-not-exist"))
    _assert_matches(load_mnist(tmp_path / "mnist.npz"), arrays)


def test_env_var_missing_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TFNN_DATA_DIR", str(tmp_path / "nope"))
    with pytest.raises(DataError, match="TFNN_DATA_DIR=.*nope: not a directory"):
        load_mnist()


def test_download_failure_says_where_to_put_the_file() -> None:
    with pytest.raises(DataError) as info:
        load_mnist()
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith("cannot download MNIST (URL fetch failure")
    for hint in ("--data PATH", "TFNN_DATA_DIR=DIR", "mnist.npz", "train-images-idx3-ubyte"):
        assert hint in message


def test_env_dir_without_mnist_falls_back_to_download(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TFNN_DATA_DIR", str(tmp_path))
    with pytest.raises(DataError, match="cannot download MNIST"):
        load_mnist()
    arrays = _arrays()
    split = ((arrays["x_train"], arrays["y_train"]), (arrays["x_test"], arrays["y_test"]))
    _fake_keras(monkeypatch, lambda: split)
    _assert_matches(load_mnist(), arrays)


def test_downloaded_arrays_are_validated(monkeypatch: pytest.MonkeyPatch) -> None:
    a = _arrays()
    _fake_keras(monkeypatch, lambda: ((a["x_train"], a["y_train"] + 5), (a["x_test"], a["y_test"])))
    with pytest.raises(DataError, match="keras.datasets.mnist: y_train has labels 5..10"):
        load_mnist()


# --- Bad input -----------------------------------------------------------------------


def test_missing_path(tmp_path: Path) -> None:
    _raises_data_error(tmp_path / "mnist.npz", "no such file or directory")


def test_empty_npz(tmp_path: Path) -> None:
    (tmp_path / "mnist.npz").touch()
    _raises_data_error(tmp_path / "mnist.npz", "empty")


def test_truncated_npz(tmp_path: Path) -> None:
    path = tmp_path / "mnist.npz"
    _write_npz(path)
    path.write_bytes(path.read_bytes()[:3000])
    _raises_data_error(path, "not a readable .npz archive")


def test_corrupt_npz_member(tmp_path: Path) -> None:
    path = tmp_path / "mnist.npz"
    _write_npz(path)
    content = bytearray(path.read_bytes())
    content[500:520] = bytes(20)  # Inside x_train's stored data: the CRC check fails.
    path.write_bytes(bytes(content))
    _raises_data_error(path, "not a readable .npz archive")


def test_not_an_archive(tmp_path: Path) -> None:
    (tmp_path / "mnist.npz").write_text("hello, not a zip file\n")
    _raises_data_error(tmp_path / "mnist.npz", "not an .npz archive (no zip signature)")


def test_npy_instead_of_npz(tmp_path: Path) -> None:
    np.save(tmp_path / "x.npy", np.zeros(3))
    _raises_data_error(tmp_path / "x.npy", "single .npy array")


def test_object_array_is_refused(tmp_path: Path) -> None:
    _write_npz(tmp_path / "mnist.npz", y_test=np.array([1, "a", None, 2], dtype=object))
    _raises_data_error(tmp_path / "mnist.npz", "not a readable .npz archive")


@pytest.mark.parametrize(
    ("overrides", "fragment"),
    [
        ({"y_test": None}, "missing array(s) y_test"),
        ({"x_train": None, "y_train": None}, "missing array(s) x_train, y_train"),
        ({"x_train": np.zeros((6, 28, 27), np.uint8)}, "x_train has shape (6, 28, 27)"),
        ({"x_test": np.zeros((4, 784), np.uint8)}, "x_test has shape (4, 784), expected (n, 28"),
        ({"x_train": np.zeros((0, 28, 28), np.uint8)}, "x_train holds no images"),
        ({"y_train": np.zeros((6, 1), np.uint8)}, "y_train has shape (6, 1), expected (n,)"),
        ({"y_test": np.zeros(3, np.uint8)}, "x_test has 4 images but y_test has 3 labels"),
        ({"y_train": np.full(6, 10, np.uint8)}, "y_train has labels 10..10, expected 0-9"),
        ({"y_test": np.array([0, -1, 2, 3], np.int8)}, "y_test has labels -1..3"),
        ({"y_test": np.zeros(4, np.float32)}, "y_test has dtype float32, expected integer"),
        ({"x_train": np.zeros((6, 28, 28), np.float32)}, "dtype float32, expected uint8"),
        ({"x_test": np.full((4, 28, 28), 256, np.int32)}, "x_test has pixel values 256..256"),
        ({"x_test": np.full((4, 28, 28), "a")}, "x_test has dtype <U1, expected uint8"),
    ],
)
def test_bad_npz_contents(tmp_path: Path, overrides: dict, fragment: str) -> None:
    _write_npz(tmp_path / "mnist.npz", **overrides)
    _raises_data_error(tmp_path / "mnist.npz", fragment)
    _raises_data_error(tmp_path, fragment, name="mnist.npz")  # Same through the directory.


def test_empty_directory(tmp_path: Path) -> None:
    _raises_data_error(tmp_path, "contains neither mnist.npz nor the MNIST IDX files")


def test_idx_directory_missing_one_file(tmp_path: Path) -> None:
    _write_idx_dir(tmp_path, ".gz")
    (tmp_path / "t10k-labels-idx1-ubyte.gz").unlink()
    _raises_data_error(tmp_path, "t10k-labels-idx1-ubyte[.gz] is missing")


def test_idx_directory_truncated_file(tmp_path: Path) -> None:
    _write_idx_dir(tmp_path)
    images = tmp_path / "train-images-idx3-ubyte"
    images.write_bytes(images.read_bytes()[:-10])
    _raises_data_error(tmp_path, "truncated", name="train-images-idx3-ubyte")


def test_idx_directory_count_mismatch_names_both_files(tmp_path: Path) -> None:
    _write_idx_dir(tmp_path, y_train=np.zeros(5, np.uint8))
    with pytest.raises(DataError) as info:
        load_mnist(tmp_path)
    assert str(info.value) == (
        f"{tmp_path / 'train-images-idx3-ubyte'} has 6 images but "
        f"{tmp_path / 'train-labels-idx1-ubyte'} has 5 labels"
    )


def test_idx_directory_labels_wrong_rank(tmp_path: Path) -> None:
    _write_idx_dir(tmp_path, y_test=np.zeros((4, 1), np.uint8))
    _raises_data_error(tmp_path, "expected (n,)", name="t10k-labels-idx1-ubyte")


# --- Real data -----------------------------------------------------------------------


@pytest.mark.skipif(
    not REAL_DATA_DIR or not (Path(REAL_DATA_DIR) / "mnist.npz").is_file(),
    reason="TFNN_DATA_DIR unset or without mnist.npz",
)
def test_real_mnist(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TFNN_DATA_DIR", REAL_DATA_DIR)
    data = load_mnist()
    assert data.x_train.shape == (60000, 28, 28) and data.x_test.shape == (10000, 28, 28)
    assert data.y_train.shape == (60000,) and data.y_test.shape == (10000,)
    assert data.x_train.dtype == np.float32 and data.y_train.dtype == np.int64
    assert data.x_train.min() == 0.0 and data.x_train.max() == 1.0
    assert 0.0 <= data.x_test.min() and data.x_test.max() <= 1.0
    assert data.y_train[:10].tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
    assert np.bincount(data.y_test).tolist() == [
        980,
        1135,
        1032,
        1010,
        982,
        892,
        958,
        1028,
        974,
        1009,
    ]
