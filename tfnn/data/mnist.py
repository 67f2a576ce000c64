"""MNIST loader: a local ``mnist.npz`` or IDX files first, Keras' download last."""

from __future__ import annotations

import os
import zipfile
import zlib
from pathlib import Path

import numpy as np

from tfnn.data.dataset import Dataset
from tfnn.data.idx import read_idx
from tfnn.errors import DataError

DATA_DIR_ENV = "TFNN_DATA_DIR"
NPZ_NAME = "mnist.npz"
IDX_NAMES = {
    "x_train": "train-images-idx3-ubyte",
    "y_train": "train-labels-idx1-ubyte",
    "x_test": "t10k-images-idx3-ubyte",
    "y_test": "t10k-labels-idx1-ubyte",
}
IMAGE_SHAPE = (28, 28)
NUM_CLASSES = 10
_HINT = (
    f"pass --data PATH or set {DATA_DIR_ENV}=DIR, where PATH is {NPZ_NAME} or a "
    f"directory holding it or the four IDX files ({', '.join(IDX_NAMES.values())}, "
    "optionally .gz)"
)

# key -> (array, file it came from, key inside that file or None for one-array files)
_Arrays = dict[str, tuple[np.ndarray, str, str | None]]


def load_mnist(path: str | os.PathLike | None = None) -> Dataset:
    """Loads MNIST with pixels scaled to [0, 1].

    Looks in ``path`` if given, else in ``$TFNN_DATA_DIR`` if set and it holds MNIST,
    else downloads through Keras (cached in ``~/.keras/datasets``).

    Args:
        path: ``mnist.npz`` (Keras' layout) or a directory holding it or the four
            IDX files, plain or ``.gz``.

    Returns:
        A Dataset with x of shape ``(n, 28, 28)`` float32 and y int64 labels 0-9.

    Raises:
        DataError: The data is missing, corrupt, or the download failed.
    """
    if path is not None:
        arrays = _read_location(Path(path))
    else:
        arrays = None
        env_dir = os.environ.get(DATA_DIR_ENV)
        if env_dir:
            if not Path(env_dir).is_dir():
                raise DataError(f"{DATA_DIR_ENV}={env_dir}: not a directory")
            # A shared data directory may hold other data sets only; then download.
            arrays = _read_dir(Path(env_dir), required=False)
        if arrays is None:
            arrays = _download()
    return _to_dataset(arrays)


def _read_location(path: Path) -> _Arrays:
    if path.is_dir():
        return _read_dir(path, required=True)
    if path.is_file():
        return _read_npz(path)
    raise DataError(f"{path}: no such file or directory")


def _read_dir(directory: Path, required: bool) -> _Arrays | None:
    npz = directory / NPZ_NAME
    if npz.exists():
        return _read_npz(npz)
    found = {key: _find_idx(directory, name) for key, name in IDX_NAMES.items()}
    missing = [IDX_NAMES[key] for key, file in found.items() if file is None]
    if not missing:
        return {key: (read_idx(file), str(file), None) for key, file in found.items()}
    if len(missing) < len(IDX_NAMES):
        raise DataError(f"{directory}: MNIST IDX file {missing[0]}[.gz] is missing")
    if required:
        raise DataError(f"{directory}: contains neither {NPZ_NAME} nor the MNIST IDX files")
    return None


def _find_idx(directory: Path, name: str) -> Path | None:
    for candidate in (directory / name, directory / f"{name}.gz"):
        if candidate.is_file():
            return candidate
    return None


def _read_npz(path: Path) -> _Arrays:
    try:
        with open(path, "rb") as f:
            head = f.read(6)
        if not head:
            raise DataError(f"{path}: file is empty")
        if head.startswith(b"\x93NUMPY"):
            raise DataError(f"{path}: holds a single .npy array, expected an .npz archive")
        # Checked here because np.load would otherwise guess "pickle" for any non-zip file.
        if not head.startswith(b"PK"):
            raise DataError(f"{path}: not an .npz archive (no zip signature)")
        with np.load(path, allow_pickle=False) as archive:
            missing = [key for key in IDX_NAMES if key not in archive.files]
            if missing:
                raise DataError(
                    f"{path}: missing array(s) {', '.join(missing)} "
                    f"(has: {', '.join(archive.files) or 'none'})"
                )
            # Members are decompressed lazily, so corruption can surface here too.
            return {key: (archive[key], str(path), key) for key in IDX_NAMES}
    except (zipfile.BadZipFile, ValueError, OSError, EOFError, zlib.error) as exc:
        raise DataError(f"{path}: not a readable .npz archive ({_one_line(exc)})") from exc


def _download() -> _Arrays:
    try:
        import keras  # Lazy: importing Keras pulls in TensorFlow, which is slow.

        (x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
    except Exception as exc:
        raise DataError(f"cannot download MNIST ({_one_line(exc)}); {_HINT}") from exc
    source = "keras.datasets.mnist"
    return {
        "x_train": (x_train, source, "x_train"),
        "y_train": (y_train, source, "y_train"),
        "x_test": (x_test, source, "x_test"),
        "y_test": (y_test, source, "y_test"),
    }


def _to_dataset(arrays: _Arrays) -> Dataset:
    x_train, y_train = _check_split(arrays, "train")
    x_test, y_test = _check_split(arrays, "test")
    return Dataset(
        x_train=x_train,
        y_train=y_train,
        x_test=x_test,
        y_test=y_test,
        num_classes=NUM_CLASSES,
        name="mnist",
        image_shape=IMAGE_SHAPE,
    )


def _check_split(arrays: _Arrays, split: str) -> tuple[np.ndarray, np.ndarray]:
    x, x_file, x_key = arrays[f"x_{split}"]
    y, y_file, y_key = arrays[f"y_{split}"]
    x_name, y_name = _name(x_file, x_key), _name(y_file, y_key)
    if x.dtype.kind not in "ui":
        raise DataError(f"{x_name} has dtype {x.dtype}, expected uint8 pixels")
    if x.ndim != 3 or x.shape[1:] != IMAGE_SHAPE:
        raise DataError(f"{x_name} has shape {x.shape}, expected (n, 28, 28)")
    if x.shape[0] == 0:
        raise DataError(f"{x_name} holds no images")
    if x.dtype != np.uint8 and (x.min() < 0 or x.max() > 255):
        raise DataError(f"{x_name} has pixel values {x.min()}..{x.max()}, expected 0-255")
    if y.dtype.kind not in "ui":
        raise DataError(f"{y_name} has dtype {y.dtype}, expected integer labels")
    if y.ndim != 1:
        raise DataError(f"{y_name} has shape {y.shape}, expected (n,)")
    if len(x) != len(y):
        if x_file == y_file:  # Name the file once: "mnist.npz: x_test has 5 ... y_test has 4".
            x_name, y_name = f"{x_file}: {x_key}", y_key
        raise DataError(f"{x_name} has {len(x)} images but {y_name} has {len(y)} labels")
    if y.min() < 0 or y.max() >= NUM_CLASSES:
        raise DataError(f"{y_name} has labels {y.min()}..{y.max()}, expected 0-9")
    # One float32 allocation instead of astype followed by a division.
    return np.divide(x, 255, dtype=np.float32), y.astype(np.int64)


def _name(file: str, key: str | None) -> str:
    return f"{file}: {key}" if key else file


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__
