"""Class labels as the figures show them: integer ids, and their names."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def as_labels(y: np.ndarray | Sequence) -> np.ndarray:
    """Returns integer class ids from ids, ``(n, 1)`` columns or one-hot rows."""
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] > 1:
        return np.argmax(y, axis=1).astype(np.int64)
    return y.reshape(-1).astype(np.int64)


def class_name(label: int, class_names: Sequence[str] | None) -> str:
    """The name of class ``label``, or its id when ``class_names`` has none for it."""
    if class_names is not None and 0 <= label < len(class_names):
        return str(class_names[label])
    return str(label)
