"""Files replaced whole: a kill or a full disk mid-write leaves the previous content."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO


@contextmanager
def replaced_whole(path: str | os.PathLike) -> Iterator[BinaryIO]:
    """Yields a file for ``path``'s new content, written beside it and renamed over it
    once complete. On failure the partial file is deleted (its room given back) and
    ``path`` keeps what it held."""
    path = Path(path)
    partial = path.with_name(path.name + ".partial")
    try:
        with open(partial, "wb") as file:
            yield file
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
