"""TensorFlow imported without its C++ start-up lines, for every entry point (TensorFlow-free).

TensorFlow 2.21 prints CUDA probing (``failed call to cuInit``), oneDNN notes and
absl warnings straight to file descriptor 2 while it loads, whatever
``TF_CPP_MIN_LOG_LEVEL`` says. Every process tfnn starts (the command line, its
worker processes, ``python -m`` entry points, the Python API) loads TensorFlow
through :func:`import_tensorflow_quietly` first.
"""

from __future__ import annotations

import os
import sys

# Set TFNN_VERBOSE_TF=1 to see TensorFlow's start-up lines (debugging an installation).
VERBOSE_VARIABLE = "TFNN_VERBOSE_TF"


def import_tensorflow_quietly() -> None:
    """Imports TensorFlow (once per process) with stderr's descriptor pointed at
    /dev/null for the import only; Python-level warnings after it are untouched."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    if "tensorflow" in sys.modules or os.environ.get(VERBOSE_VARIABLE):
        return
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
            import tensorflow  # noqa: F401
    finally:
        os.dup2(saved, 2)
        os.close(saved)
