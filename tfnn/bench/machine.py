"""What the benchmark ran on, and this CPU's peak FLOP/s (with how it was derived)."""

from __future__ import annotations

import os
import platform
from pathlib import Path


def _cpuinfo() -> dict[str, str]:
    info: dict[str, str] = {}
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            info.setdefault(key.strip(), value.strip())
    except OSError:
        pass
    return info


def peak_flops() -> dict:
    """FP32 peak = cores × clock × FLOPs per cycle per core.

    FLOPs per cycle assumes two FMA units per core (an FMA counts as 2 FLOPs):
    AVX-512 → 2 × 16 lanes × 2 = 64; AVX2 → 2 × 8 × 2 = 32; otherwise SSE 2 × 4 × 2 = 16.
    """
    info = _cpuinfo()
    flags = set(info.get("flags", "").split())
    megahertz = float(info.get("cpu MHz", "0") or 0)
    cores = os.cpu_count() or 1
    lanes = 16 if "avx512f" in flags else 8 if "avx2" in flags else 4
    per_cycle = 2 * lanes * 2
    return {
        "fp32_peak_gflops": round(cores * megahertz / 1000 * per_cycle, 1),
        "derivation": f"{cores} cores x {megahertz / 1000:.3f} GHz x {per_cycle} FLOP/cycle "
        f"(2 FMA units x {lanes} fp32 lanes x 2)",
    }


def machine_info() -> dict:
    """CPU model, cores, versions and thread settings, for the benchmark record."""
    import keras
    import tensorflow as tf

    info = _cpuinfo()
    return {
        "cpu": info.get("model name", platform.processor()),
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "intra_op_threads": tf.config.threading.get_intra_op_parallelism_threads(),
        "inter_op_threads": tf.config.threading.get_inter_op_parallelism_threads(),
        **peak_flops(),
    }
