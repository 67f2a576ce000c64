"""Tests for the CIFAR-10 loader (small generated batches, no network)."""

from __future__ import annotations

import pickle
import sys
import types
from pathlib import Path

import numpy as np
import pytest

from tfnn.data.cifar10 import BATCH_DIR, TEST_BATCH, TRAIN_BATCHES, load_cifar10
from tfnn.errors import DataError


def write_cifar_batches(
    directory: Path, per_batch: int = 3, protocol: int = 2, **batch_overrides
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Writes ``directory/cifar-10-batches-py`` in the official layout.

    Args:
        directory: Parent of the batch directory.
        per_batch: Images per batch file.
        protocol: Pickle protocol (the official files use Python 2's cPickle).
        **batch_overrides: Batch file name -> dict entries to replace (None drops one).

    Returns:
        x_train, y_train, x_test, y_test; images NHWC uint8, as the loader should see them.
    """
    batch_dir = directory / BATCH_DIR
    batch_dir.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    images, labels = {}, {}
    for i, name in enumerate((*TRAIN_BATCHES, TEST_BATCH)):
        images[name] = rng.integers(0, 256, (per_batch, 32, 32, 3), dtype=np.uint8)
        labels[name] = [(i + j) % 10 for j in range(per_batch)]
        rows = images[name].transpose(0, 3, 1, 2).reshape(per_batch, 3072)
        batch = {
            b"batch_label": name.encode(),
            b"labels": labels[name],
            b"data": rows,
            b"filenames": [f"{name}_{j}.png".encode() for j in range(per_batch)],
        }
        batch.update(batch_overrides.get(name, {}))
        batch = {key: value for key, value in batch.items() if value is not None}
        (batch_dir / name).write_bytes(pickle.dumps(batch, protocol=protocol))
    x_train = np.concatenate([images[name] for name in TRAIN_BATCHES])
    y_train = np.concatenate([labels[name] for name in TRAIN_BATCHES])
    return x_train, y_train, images[TEST_BATCH], np.array(labels[TEST_BATCH])


def _fake_keras(monkeypatch: pytest.MonkeyPatch, load_data) -> None:
    # A stand-in module, so tests neither import TensorFlow nor touch the network.
    cifar10 = types.SimpleNamespace(load_data=load_data)
    datasets = types.SimpleNamespace(cifar10=cifar10)
    monkeypatch.setitem(sys.modules, "keras", types.SimpleNamespace(datasets=datasets))


def _offline() -> None:
    raise OSError("URL fetch failure on https://example.invalid/cifar-10-python.tar.gz")


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TFNN_DATA_DIR", raising=False)
    _fake_keras(monkeypatch, _offline)


def _assert_matches(data, expected) -> None:
    x_train, y_train, x_test, y_test = expected
    assert (data.name, data.num_classes, data.image_shape) == ("cifar10", 10, (32, 32, 3))
    for x, y, want_x, want_y in ((data.x_train, data.y_train, x_train, y_train),
                                 (data.x_test, data.y_test, x_test, y_test)):  # fmt: skip
        assert x.dtype == np.float32 and x.flags.c_contiguous and y.dtype == np.int64
        np.testing.assert_allclose(x * 255, want_x, atol=1e-4)
        np.testing.assert_array_equal(y, want_y)


def _raises_data_error(path: Path | None, fragment: str, name: str) -> str:
    with pytest.raises(DataError) as info:
        load_cifar10(path)
    message = str(info.value)
    assert "\n" not in message and name in message and fragment in message, message
    return message


@pytest.mark.parametrize("protocol", [2, 4, 5])
def test_round_trip_from_parent_directory(tmp_path: Path, protocol: int) -> None:
    expected = write_cifar_batches(tmp_path, protocol=protocol)
    data = load_cifar10(tmp_path)
    assert data.x_train.shape == (15, 32, 32, 3) and data.x_test.shape == (3, 32, 32, 3)
    _assert_matches(data, expected)


def test_round_trip_from_batch_directory(tmp_path: Path) -> None:
    expected = write_cifar_batches(tmp_path)
    _assert_matches(load_cifar10(str(tmp_path / BATCH_DIR)), expected)


def test_rows_are_channel_first(tmp_path: Path) -> None:
    # First 1024 bytes of a row are red: a row of 255 then zeros must be a pure red image.
    row = np.zeros((1, 3072), np.uint8)
    row[0, :1024] = 255
    write_cifar_batches(tmp_path, **{TEST_BATCH: {b"data": row, b"labels": [7]}})
    image = load_cifar10(tmp_path).x_test[0]
    assert (image[..., 0] == 1).all() and (image[..., 1:] == 0).all()


def test_string_keys_and_array_labels(tmp_path: Path) -> None:
    x_train, y_train, x_test, y_test = write_cifar_batches(tmp_path)
    rows = x_test.transpose(0, 3, 1, 2).reshape(3, 3072)
    override = {b"data": None, b"labels": None, "data": rows, "labels": y_test.astype(np.uint8)}
    write_cifar_batches(tmp_path, **{TEST_BATCH: override})
    _assert_matches(load_cifar10(tmp_path), (x_train, y_train, x_test, y_test))


def test_env_var_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    expected = write_cifar_batches(tmp_path)
    monkeypatch.setenv("TFNN_DATA_DIR", str(tmp_path))
    _assert_matches(load_cifar10(), expected)


def test_env_var_missing_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TFNN_DATA_DIR", str(tmp_path / "nope"))
    _raises_data_error(None, "not a directory", "TFNN_DATA_DIR=")


def test_download_failure_says_where_to_put_the_files() -> None:
    message = _raises_data_error(None, "cannot download CIFAR-10 (URL fetch failure", "CIFAR")
    for hint in ("--data DIR", "TFNN_DATA_DIR=DIR", BATCH_DIR):
        assert hint in message


def test_env_dir_without_cifar_falls_back_to_download(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "mnist.npz").touch()  # A shared data directory holding another data set.
    monkeypatch.setenv("TFNN_DATA_DIR", str(tmp_path))
    _raises_data_error(None, "cannot download CIFAR-10", "CIFAR")
    rng = np.random.default_rng(1)
    x_train = rng.integers(0, 256, (4, 32, 32, 3), dtype=np.uint8)
    x_test = rng.integers(0, 256, (2, 32, 32, 3), dtype=np.uint8)
    y_train, y_test = np.array([[1], [2], [3], [9]], np.uint8), np.array([[0], [5]], np.uint8)
    _fake_keras(monkeypatch, lambda: ((x_train, y_train), (x_test, y_test)))
    _assert_matches(load_cifar10(), (x_train, y_train.ravel(), x_test, y_test.ravel()))


def test_downloaded_arrays_are_validated(monkeypatch: pytest.MonkeyPatch) -> None:
    x = np.zeros((2, 32, 32, 3), np.uint8)
    _fake_keras(monkeypatch, lambda: ((x, np.array([[1], [10]])), (x, np.array([[0], [1]]))))
    _raises_data_error(None, "labels 1..10, expected 0-9", "keras.datasets.cifar10 (train)")


def test_missing_path(tmp_path: Path) -> None:
    _raises_data_error(tmp_path / "nope", "no such file or directory", "nope")


def test_archive_instead_of_directory(tmp_path: Path) -> None:
    (tmp_path / "cifar-10-python.tar.gz").write_bytes(b"\x1f\x8b")
    _raises_data_error(
        tmp_path / "cifar-10-python.tar.gz", "extract cifar-10-python.tar.gz", "python.tar.gz:"
    )


def test_directory_without_batches(tmp_path: Path) -> None:
    _raises_data_error(tmp_path, f"contains neither {BATCH_DIR}", str(tmp_path))


def test_missing_batch_file(tmp_path: Path) -> None:
    write_cifar_batches(tmp_path)
    (tmp_path / BATCH_DIR / "data_batch_3").unlink()
    _raises_data_error(tmp_path, "missing CIFAR-10 batch file", "data_batch_3")


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (b"", "file is empty"),
        (b"\x80\x02}q\x00(U\x04data", "not a readable batch pickle"),
        (b"this is not a pickle at all", "not a readable batch pickle"),
        (pickle.dumps([1, 2, 3]), "holds a list, expected a dict"),
        (pickle.dumps(types.SimpleNamespace()), "refusing to load global types.SimpleNamespace"),
    ],
)
def test_bad_batch_file(tmp_path: Path, content: bytes, fragment: str) -> None:
    write_cifar_batches(tmp_path)
    (tmp_path / BATCH_DIR / TEST_BATCH).write_bytes(content)
    _raises_data_error(tmp_path, fragment, TEST_BATCH)


def test_pickle_cannot_run_code(tmp_path: Path) -> None:
    class Exploit:
        def __reduce__(self):
            return (print, ("unpickled code ran",))

    write_cifar_batches(tmp_path)
    (tmp_path / BATCH_DIR / "data_batch_1").write_bytes(pickle.dumps({b"data": Exploit()}))
    _raises_data_error(tmp_path, "refusing to load global builtins.print", "data_batch_1")


def test_truncated_batch_file(tmp_path: Path) -> None:
    write_cifar_batches(tmp_path)
    batch = tmp_path / BATCH_DIR / "data_batch_2"
    batch.write_bytes(batch.read_bytes()[:2000])
    _raises_data_error(tmp_path, "not a readable batch pickle", "data_batch_2")


@pytest.mark.parametrize(
    ("override", "fragment"),
    [
        ({b"labels": None}, "missing the b'data' or b'labels' entry"),
        ({b"data": np.zeros((3, 3000), np.uint8)}, "data has shape (3, 3000), expected (n, 3072)"),
        ({b"data": np.zeros(3072, np.uint8)}, "data has shape (3072,)"),
        ({b"data": np.zeros((0, 3072), np.uint8), b"labels": []}, "holds no images"),
        ({b"data": np.zeros((3, 3072), np.float64)}, "dtype float64, expected uint8"),
        ({b"data": np.full((3, 3072), -1, np.int16)}, "pixel values -1..-1"),
        ({b"labels": [0, 1]}, "3 images but 2 labels"),
        ({b"labels": [0, 1, 10]}, "labels 0..10, expected 0-9"),
        ({b"labels": [0, -1, 2]}, "labels -1..2"),
        ({b"labels": ["a", "b", "c"]}, "labels have dtype <U1"),
        ({b"labels": [[0, 1], [2]]}, "not arrays"),
    ],
)
def test_bad_batch_contents(tmp_path: Path, override: dict, fragment: str) -> None:
    write_cifar_batches(tmp_path, **{"data_batch_4": override})
    _raises_data_error(tmp_path, fragment, "data_batch_4")
