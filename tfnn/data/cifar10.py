"""CIFAR-10 loader: the extracted Python batches first, Keras' download last."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import numpy as np

from tfnn.data.dataset import Dataset
from tfnn.errors import DataError

DATA_DIR_ENV = "TFNN_DATA_DIR"
BATCH_DIR = "cifar-10-batches-py"
TRAIN_BATCHES = tuple(f"data_batch_{i}" for i in range(1, 6))
TEST_BATCH = "test_batch"
IMAGE_SHAPE = (32, 32, 3)
NUM_CLASSES = 10
_ROW_SHAPE = (3 * 32 * 32,)
_HINT = (
    f"extract cifar-10-python.tar.gz, then pass --data DIR or set {DATA_DIR_ENV}=DIR, "
    f"where DIR is or contains {BATCH_DIR}"
)

# The only globals a batch pickle needs (numpy arrays, old and new numpy names).
# Anything else is refused because unpickling can otherwise run arbitrary code.
_ALLOWED_GLOBALS = {
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy.core.multiarray", "scalar"),
    ("numpy._core.multiarray", "scalar"),
    ("numpy.core.numeric", "_frombuffer"),
    ("numpy._core.numeric", "_frombuffer"),
    ("_codecs", "encode"),  # Protocol 2 from Python 3 writes bytes this way...
    ("__builtin__", "bytes"),  # ...and empty bytes this way.
    ("builtins", "bytes"),
}


class _BatchUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> object:
        if (module, name) not in _ALLOWED_GLOBALS:
            raise pickle.UnpicklingError(f"refusing to load global {module}.{name}")
        return super().find_class(module, name)


def load_cifar10(path: str | os.PathLike | None = None) -> Dataset:
    """Loads CIFAR-10 with pixels scaled to [0, 1].

    Looks in ``path`` if given, else in ``$TFNN_DATA_DIR`` if set and it holds the
    batches, else downloads through Keras (cached in ``~/.keras/datasets``).

    Args:
        path: The ``cifar-10-batches-py`` directory or a directory containing it.

    Returns:
        A Dataset with x of shape ``(n, 32, 32, 3)`` float32 and y int64 labels 0-9.

    Raises:
        DataError: The data is missing, corrupt, or the download failed.
    """
    directory = None
    if path is not None:
        directory = _find_batch_dir(Path(path))
        if directory is None:
            raise DataError(f"{path}: contains neither {BATCH_DIR} nor CIFAR-10 batch files")
    elif os.environ.get(DATA_DIR_ENV):
        env_dir = Path(os.environ[DATA_DIR_ENV])
        if not env_dir.is_dir():
            raise DataError(f"{DATA_DIR_ENV}={env_dir}: not a directory")
        # A shared data directory may hold other data sets only; then download.
        directory = _find_batch_dir(env_dir)
    if directory is None:
        (x_train, y_train), (x_test, y_test) = _download()
    else:
        x_train, y_train = _read_batches(directory, TRAIN_BATCHES)
        x_test, y_test = _read_batches(directory, (TEST_BATCH,))
    return Dataset(
        x_train=_to_unit_float(x_train),
        y_train=y_train,
        x_test=_to_unit_float(x_test),
        y_test=y_test,
        num_classes=NUM_CLASSES,
        name="cifar10",
        image_shape=IMAGE_SHAPE,
    )


def _find_batch_dir(path: Path) -> Path | None:
    if not path.exists():
        raise DataError(f"{path}: no such file or directory")
    if not path.is_dir():
        raise DataError(f"{path}: not a directory (extract cifar-10-python.tar.gz first)")
    if (path / BATCH_DIR).is_dir():
        return path / BATCH_DIR
    if path.name == BATCH_DIR or any((path / n).exists() for n in (*TRAIN_BATCHES, TEST_BATCH)):
        return path
    return None


def _read_batches(directory: Path, names: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
    batches = [_read_batch(directory / name) for name in names]
    x = np.concatenate([data for data, _ in batches])
    y = np.concatenate([labels for _, labels in batches])
    # Rows are channel-first (1024 red, 1024 green, 1024 blue); Keras wants NHWC.
    return x.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1), y


def _read_batch(file: Path) -> tuple[np.ndarray, np.ndarray]:
    if not file.is_file():
        raise DataError(f"{file}: missing CIFAR-10 batch file")
    if file.stat().st_size == 0:
        raise DataError(f"{file}: file is empty")
    try:
        with open(file, "rb") as f:
            # encoding="bytes": the official batches were pickled by Python 2.
            batch = _BatchUnpickler(f, encoding="bytes").load()
    except Exception as exc:  # Unpickling damaged data can raise nearly any type.
        raise DataError(f"{file}: not a readable batch pickle ({_one_line(exc)})") from exc
    if not isinstance(batch, dict):
        raise DataError(f"{file}: holds a {type(batch).__name__}, expected a dict")
    data = batch.get(b"data", batch.get("data"))
    labels = batch.get(b"labels", batch.get("labels"))
    if data is None or labels is None:
        raise DataError(f"{file}: missing the b'data' or b'labels' entry")
    try:
        data, labels = np.asarray(data), np.asarray(labels)
    except (ValueError, TypeError) as exc:
        raise DataError(f"{file}: data or labels are not arrays ({_one_line(exc)})") from exc
    _check(str(file), data, labels, _ROW_SHAPE)
    return data.astype(np.uint8, copy=False), labels.astype(np.int64)


def _download() -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    try:
        import keras  # Lazy: importing Keras pulls in TensorFlow, which is slow.

        (x_train, y_train), (x_test, y_test) = keras.datasets.cifar10.load_data()
    except Exception as exc:
        raise DataError(f"cannot download CIFAR-10 ({_one_line(exc)}); {_HINT}") from exc
    splits = []
    for split, x, y in (("train", x_train, y_train), ("test", x_test, y_test)):
        y = np.ravel(y)  # Keras returns labels as (n, 1).
        _check(f"keras.datasets.cifar10 ({split})", x, y, IMAGE_SHAPE)
        splits.append((x.astype(np.uint8, copy=False), y.astype(np.int64)))
    return splits[0], splits[1]


def _check(name: str, x: np.ndarray, y: np.ndarray, row_shape: tuple[int, ...]) -> None:
    expected = f"(n, {', '.join(map(str, row_shape))})"
    if x.dtype.kind not in "ui":
        raise DataError(f"{name}: data has dtype {x.dtype}, expected uint8 pixels")
    if x.shape[1:] != row_shape:
        raise DataError(f"{name}: data has shape {x.shape}, expected {expected}")
    if len(x) == 0:
        raise DataError(f"{name}: holds no images")
    if x.dtype != np.uint8 and (x.min() < 0 or x.max() > 255):
        raise DataError(f"{name}: pixel values {x.min()}..{x.max()}, expected 0-255")
    if y.dtype.kind not in "ui" or y.ndim != 1:
        raise DataError(f"{name}: labels have dtype {y.dtype}, shape {y.shape}; expected ints")
    if len(x) != len(y):
        raise DataError(f"{name}: {len(x)} images but {len(y)} labels")
    if y.min() < 0 or y.max() >= NUM_CLASSES:
        raise DataError(f"{name}: labels {y.min()}..{y.max()}, expected 0-9")


def _to_unit_float(x: np.ndarray) -> np.ndarray:
    # order="C": the NHWC transpose is a strided view; callers expect contiguous arrays.
    return np.divide(x, 255, dtype=np.float32, order="C")


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__
