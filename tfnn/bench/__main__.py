"""`python -m tfnn.bench [--quick] [--only a,b] [--output FILE]` (see scripts/bench)."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from tfnn.bench.harness import TRAINING_CASES, bench_startup, bench_training
from tfnn.bench.machine import contention, cpu_snapshot, machine_info
from tfnn.bench.tuner import bench_tuner

BENCHMARKS = (*TRAINING_CASES, "startup", "tuner")


def main() -> int:
    parser = argparse.ArgumentParser(prog="scripts/bench")
    parser.add_argument("--quick", action="store_true", help="reduced budgets (~3 min)")
    parser.add_argument("--only", default=",".join(BENCHMARKS), help="comma-separated names")
    parser.add_argument("--repetitions", type=int, default=None, help="processes per variant")
    parser.add_argument("--output", default=None, help="JSON file (default logs/bench/...)")
    args = parser.parse_args()
    names = [name for name in args.only.split(",") if name]
    unknown = sorted(set(names) - set(BENCHMARKS))
    if unknown:
        parser.error(f"unknown benchmark(s) {', '.join(unknown)}; choose from {BENCHMARKS}")
    repetitions = args.repetitions or (1 if args.quick else 3)
    record = {
        "date": time.strftime("%Y-%m-%d %H:%M"),
        "mode": "quick" if args.quick else "full",
        "command": " ".join(["scripts/bench", *sys.argv[1:]]),
        "benchmarks": {},
    }
    started_all = time.perf_counter()
    for name in names:
        started = time.perf_counter()
        before = cpu_snapshot()
        if name == "startup":
            result = bench_startup(repetitions if args.quick else max(3, repetitions))
        elif name == "tuner":
            result = bench_tuner(args.quick, repetitions)
        else:
            result = bench_training(name, repetitions, args.quick)
        result["bench_wall_s"] = round(time.perf_counter() - started, 1)
        result["cpu"] = contention(before, cpu_snapshot())
        record["benchmarks"][name] = result
        print(format_result(name, result), flush=True)
    record["total_wall_s"] = round(time.perf_counter() - started_all, 1)
    # Last: importing TensorFlow here earlier would inflate the children's peak RSS,
    # which Linux counts from the forked parent's.
    record["machine"] = machine_info()
    output = Path(
        args.output or f"logs/bench/{time.strftime('%Y%m%d-%H%M%S')}-{record['mode']}.json"
    )
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(record, indent=2) + "\n")
    print(f"\n{record['total_wall_s']} s in all; wrote {output}")
    return 0


def format_result(name: str, result: dict) -> str:
    if name == "tuner":
        return format_tuner(result)
    if name == "startup":
        return "\n".join(
            f"{label:32s} wall {r['wall_s']['median']:.3f} s  peak RSS {r['peak_rss_mib']:.0f} MiB"
            for label, r in result.items()
            if isinstance(r, dict) and "wall_s" in r
        )
    lines = [f"{name}  ({result['bench_wall_s']} s)"]
    for variant, speed in result["samples_per_second"].items():
        lines.append(
            f"  {variant:20s} {speed['median']:>10.0f} samples/s  "
            f"[{speed['min']:.0f}-{speed['max']:.0f}, n={speed['n']}]  "
            f"test acc {result['test_accuracy'][variant]:.4f}  "
            f"RSS {result['peak_rss_mib'][variant]:.0f} MiB"
        )
    lines.append("  ratios: " + ", ".join(f"{k} {v:.2f}" for k, v in result["ratios"].items()))
    if "achieved_gflops" in result:
        lines.append(
            f"  {result['training_mflops_per_sample']} MFLOP/sample; GFLOP/s "
            + ", ".join(f"{k} {v}" for k, v in result["achieved_gflops"].items())
        )
    return "\n".join(lines)


def format_tuner(result: dict) -> str:
    lines = [f"tuner  ({result['bench_wall_s']} s, {result['trials']} trials)"]
    runs = {f"tfnn tune {key}": run for key, run in result["tfnn"].items()}
    runs["sklearn RandomizedSearchCV"] = result["sklearn"]
    for label, run in runs.items():
        cv_seconds = run.get("cv_s") or 0.0
        lines.append(
            f"  {label:28s} search {run['search_wall_s']:7.1f} s + cv {cv_seconds:5.1f} s  "
            f"{run['trials_per_minute']:6.1f} trials/min  "
            f"overhead {run['overhead_percent']:5.1f}%  "
            f"val {run['best_val_accuracy']:.4f}  test {run['test_accuracy']:.4f}  "
            f"RSS {run['peak_rss_mib']:.0f} MiB  (median of {run.get('repetitions', 1)})"
        )
    if "targets" in result:
        lines.append("  targets: " + ", ".join(f"{k} {v}" for k, v in result["targets"].items()))
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
