"""Shared fixtures: quiet TensorFlow, a fixed seed, and the MNIST location."""

from __future__ import annotations

import atexit
import os
import random
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
# Compiled pack programs go to a cache of this session (shared by its subprocesses),
# not the user's ~/.cache.
if "TFNN_COMPILE_CACHE" not in os.environ:
    _cache = tempfile.mkdtemp(prefix="tfnn-test-xla-")
    os.environ["TFNN_COMPILE_CACHE"] = _cache
    atexit.register(shutil.rmtree, _cache, True)
sys.path.insert(0, str(Path(__file__).parent))

REPO_ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def fixed_seed():
    random.seed(0)
    np.random.seed(0)


@pytest.fixture(scope="session")
def mnist_dir() -> Path:
    """The directory holding the real mnist.npz (``TFNN_DATA_DIR``); skips when absent."""
    data_dir = os.environ.get("TFNN_DATA_DIR")
    if not data_dir or not (Path(data_dir) / "mnist.npz").is_file():
        pytest.skip("TFNN_DATA_DIR with mnist.npz is not set (CI sets ../shared/data)")
    return Path(data_dir)
