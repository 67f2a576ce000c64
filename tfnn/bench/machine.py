"""What the benchmark ran on, and this CPU's peak FLOP/s (with how it was derived)."""

from __future__ import annotations

import os
import platform
import resource
import time
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
    from tfnn.quiet import import_tensorflow_quietly

    import_tensorflow_quietly()
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


def cpu_snapshot() -> dict:
    """Machine-wide busy CPU seconds (``/proc/stat``) and this process's reaped children's."""
    busy = None
    try:
        fields = [int(value) for value in Path("/proc/stat").read_text().split()[1:9]]
        idle = fields[3] + fields[4]  # idle + iowait
        busy = (sum(fields) - idle) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        pass
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {
        "time": time.perf_counter(),
        "machine_busy_s": busy,
        "bench_s": children.ru_utime + children.ru_stime,
        "load_average": os.getloadavg()[0],
    }


def contention(before: dict, after: dict) -> dict:
    """How many cores the benchmark's processes and everything else kept busy, on average.

    ``other_cores`` near 0 means the benchmark had the machine to itself; on this
    shared 2-core machine other jobs often use one core or more.
    """
    wall = max(after["time"] - before["time"], 1e-9)
    bench = (after["bench_s"] - before["bench_s"]) / wall
    result = {
        "bench_cores": round(bench, 2),
        "load_average_1min": [round(before["load_average"], 2), round(after["load_average"], 2)],
    }
    if before["machine_busy_s"] is not None and after["machine_busy_s"] is not None:
        machine = (after["machine_busy_s"] - before["machine_busy_s"]) / wall
        result["machine_busy_cores"] = round(machine, 2)
        result["other_cores"] = round(max(0.0, machine - bench), 2)
    return result
