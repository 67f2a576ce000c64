"""XLA's compiled pack programs kept on disk, so that the next search skips compiling.

A search compiles one XLA program per pack shape and batch size (about 2-3 s of CPU
each on a 2-core machine, six for a digits search). TensorFlow can save and reload
compiled programs (``TF_XLA_FLAGS=--tf_xla_persistent_cache_directory``), keyed by
the traced function's name and its HLO; this module turns that on and makes the key
stable from one process to the next:

- the directory is per TensorFlow version and per CPU (its model and instruction
  flags): a program compiled for one CPU's instructions must never run on another;
- pack programs are traced under names that depend on what they compute only
  (:func:`stable_names`), not on how many functions the process traced before;
- damaged files (which TensorFlow would fail on) and leftovers of interrupted writes
  are removed, and the oldest files go once the cache passes :data:`LIMIT_BYTES`.

``TFNN_COMPILE_CACHE`` sets the directory (``off`` turns the cache off); the default
is ``$XDG_CACHE_HOME/tfnn/xla`` (``~/.cache/tfnn/xla``). TensorFlow reads the flag
once, when its runtime starts (its first op, a Keras build included), so the entry
points of a search call :func:`enable` before that: `tfnn tune`, its worker and
cross-validation processes, and ``tfnn.tune``. Later it changes nothing.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.metadata
import itertools
import os
import platform
import shutil
import time
import zlib
from collections.abc import Iterator
from pathlib import Path

VARIABLE = "TFNN_COMPILE_CACHE"
FLAG = "--tf_xla_persistent_cache_directory"
# A digits search writes about 4 MiB; past this the oldest programs go.
LIMIT_BYTES = 512 * 2**20
# A ``.tmp`` file this old is a write that was interrupted.
STALE_SECONDS = 3600
# TensorFlow fails the program (not just the saving) when a write fails, so the cache
# stays off unless its disk has this much room and files may grow this large.
ROOM_BYTES = 2**30
FILE_BYTES = 64 * 2**20

_state: dict = {"decided": False, "directory": None, "generation": 0}


def cache_root() -> Path | None:
    """The cache's root directory, or None when ``TFNN_COMPILE_CACHE=off``."""
    setting = os.environ.get(VARIABLE, "").strip()
    if setting.lower() in ("off", "0", "false", "no"):
        return None
    if setting:
        return Path(setting).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "tfnn" / "xla"


def machine_tag() -> str:
    """TensorFlow's version and a digest of this CPU's model and instruction flags."""
    cpu = platform.machine() + platform.processor()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith(("model name", "flags", "Features")):
                cpu += line
                if line.startswith(("flags", "Features")):
                    break
    digest = hashlib.sha256(cpu.encode()).hexdigest()[:12]
    return f"tf-{importlib.metadata.version('tensorflow')}-{digest}"


def enable() -> Path | None:
    """Points TensorFlow's XLA cache at this machine's directory (decided once per
    process); returns it, or None when the cache is off or cannot be written."""
    if not _state["decided"]:
        _state["decided"] = True
        _state["directory"] = _usable_directory()
        # Ours replaces a setting inherited from a parent process, or drops it.
        flags = os.environ.get("TF_XLA_FLAGS", "").split()
        flags = [flag for flag in flags if not flag.startswith(FLAG)]
        if _state["directory"] is not None:
            flags.append(f"{FLAG}={_state['directory']}")
        os.environ["TF_XLA_FLAGS"] = " ".join(flags)
    return _state["directory"]


def _usable_directory() -> Path | None:
    root = cache_root()
    if root is None:
        return None
    directory = root / machine_tag()
    if any(character.isspace() for character in str(directory)):
        return None  # TF_XLA_FLAGS is split at whitespace: the path would not survive
    try:
        directory.mkdir(parents=True, exist_ok=True)
        tidy(root)
        return directory if _room_to_write(directory) else None
    except OSError:
        return None  # a read-only home, say: compile as before


def _room_to_write(directory: Path) -> bool:
    """Whether a program's file can be written there (a failed write would fail the
    search: TensorFlow raises it from the program's first call)."""
    if shutil.disk_usage(directory).free < ROOM_BYTES:
        return False
    with contextlib.suppress(ImportError, ValueError, OSError):
        import resource

        limit = resource.getrlimit(resource.RLIMIT_FSIZE)[0]
        if limit != resource.RLIM_INFINITY and limit < FILE_BYTES:
            return False
    return os.access(directory, os.W_OK)


def tidy(root: Path) -> None:
    """Removes damaged programs, interrupted writes and, past :data:`LIMIT_BYTES`, the
    least recently written programs."""
    from google.protobuf import empty_pb2
    from google.protobuf.message import DecodeError

    now = time.time()
    kept = []
    for path in root.rglob("*"):
        if not path.is_file():
            continue
        stat = path.stat()
        if path.suffix == ".pb":
            try:
                # Any message parses a well-formed file's fields as unknown ones; a
                # truncated or garbled file fails, as TensorFlow would on loading it.
                empty_pb2.Empty().ParseFromString(path.read_bytes())
            except DecodeError:
                path.unlink(missing_ok=True)
                continue
            kept.append((stat.st_mtime, stat.st_size, path))
        elif now - stat.st_mtime > STALE_SECONDS:
            path.unlink(missing_ok=True)
    total = sum(size for _, size, _ in kept)
    for _, size, path in sorted(kept, key=lambda entry: entry[0]):
        if total <= LIMIT_BYTES:
            break
        path.unlink(missing_ok=True)
        total -= size


def forget() -> None:
    """Starts a new generation of names: traces after it never reuse the names of
    functions this process already holds."""
    _state["generation"] += 1


@contextlib.contextmanager
def stable_names(key: object) -> Iterator[None]:
    """Traces inside get names from ``key`` (and the generation) instead of the
    process's running count of traced functions, so the same program gets the same
    name, and the same cache entry, in every process.

    TensorFlow numbers the functions a trace creates (``__inference_f_1234``, the
    while loop's body and condition) with ``ops.uid()``; inside, that count starts
    from a number fixed by ``key``. Call it with the lanes' lock held (no other
    thread traces meanwhile).
    """
    from tensorflow.python.framework import ops

    seed = zlib.crc32(repr((key, _state["generation"])).encode())
    counter = itertools.count(10**9 + (seed % 10**6) * 10**5)
    real = ops.uid
    ops.uid = lambda: next(counter)
    try:
        yield
    finally:
        ops.uid = real
