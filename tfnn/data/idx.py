"""Reader and writer for the IDX format that the original MNIST files use.

An IDX file is a 4-byte magic number (two zero bytes, a dtype code, the number of
dimensions), one big-endian uint32 per dimension, then the values in C order,
big-endian. Files may be gzip-compressed; the reader detects that from the content.
"""

from __future__ import annotations

import gzip
import os
import struct
import zlib
from pathlib import Path

import numpy as np

from tfnn.errors import DataError

# dtype code (third magic byte) -> big-endian numpy dtype, as defined by the format.
_CODE_TO_DTYPE = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_GZIP_MAGIC = b"\x1f\x8b"


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Reads an IDX file, plain or gzip-compressed.

    Args:
        path: The file to read.

    Returns:
        The array, in native byte order, with the shape given in the header.

    Raises:
        DataError: The file is missing, empty, not IDX, or truncated.
    """
    path = Path(path)
    try:
        data = path.read_bytes()
        if data[:2] == _GZIP_MAGIC:
            data = gzip.decompress(data)
    except FileNotFoundError as exc:
        raise DataError(f"{path}: no such file") from exc
    except (OSError, EOFError, zlib.error) as exc:
        # A truncated .gz raises EOFError, a damaged one BadGzipFile (OSError) or zlib.error.
        raise DataError(f"{path}: cannot read IDX data ({_one_line(exc)})") from exc
    if not data:
        raise DataError(f"{path}: file is empty")
    if len(data) < 4:
        raise DataError(f"{path}: only {len(data)} bytes, too short for an IDX header")
    if data[0] != 0 or data[1] != 0 or data[2] not in _CODE_TO_DTYPE or data[3] == 0:
        raise DataError(f"{path}: bad IDX magic number 0x{data[:4].hex()}, not an IDX file")
    dtype = _CODE_TO_DTYPE[data[2]]
    ndim = data[3]
    header_size = 4 + 4 * ndim
    if len(data) < header_size:
        raise DataError(f"{path}: truncated IDX header ({ndim} dimensions declared)")
    dims = struct.unpack(f">{ndim}I", data[4:header_size])
    expected = int(np.prod(dims, dtype=np.int64)) * dtype.itemsize
    actual = len(data) - header_size
    if actual != expected:
        problem = "truncated" if actual < expected else "has trailing bytes"
        raise DataError(
            f"{path}: {problem}: header shape {dims} needs {expected} data bytes, file has {actual}"
        )
    array = np.frombuffer(data, dtype=dtype, offset=header_size).reshape(dims)
    return array.astype(dtype.newbyteorder("="))


def write_idx(path: str | os.PathLike, array: np.ndarray) -> Path:
    """Writes ``array`` as an IDX file, gzip-compressed when ``path`` ends in ``.gz``.

    Args:
        path: Destination file.
        array: At least 1-D, with a dtype IDX supports (uint8, int8, int16, int32,
            float32, float64).

    Returns:
        The path written.
    """
    path = Path(path)
    array = np.asarray(array)
    codes = {dtype.newbyteorder("="): code for code, dtype in _CODE_TO_DTYPE.items()}
    native = array.dtype.newbyteorder("=")
    if native not in codes:
        raise ValueError(f"IDX cannot store dtype {array.dtype}")
    if array.ndim == 0 or array.ndim > 255:
        raise ValueError(f"IDX needs 1 to 255 dimensions, got {array.ndim}")
    header = bytes([0, 0, codes[native], array.ndim])
    header += struct.pack(f">{array.ndim}I", *array.shape)
    payload = np.ascontiguousarray(array, dtype=native.newbyteorder(">")).tobytes()
    data = header + payload
    path.write_bytes(gzip.compress(data) if path.suffix == ".gz" else data)
    return path


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__
