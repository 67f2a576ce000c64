"""Markdown tables from a benchmark JSON record: `python -m tfnn.bench.report FILE`."""

from __future__ import annotations

import json
import sys


def markdown(record: dict) -> str:
    """The README's Performance section body for one ``scripts/bench`` record."""
    machine = record["machine"]
    lines = [
        f"Measured {record['date']} with `{record['command']}` ({record['mode']} mode) on "
        f"{machine['cpu']}, {machine['cores']} cores, TensorFlow {machine['tensorflow']}, "
        f"Keras {machine['keras']}. Peak FP32: {machine['fp32_peak_gflops']} GFLOP/s "
        f"({machine['derivation']}).",
        "",
        "| benchmark | variant | samples/s (median [min-max], n) | test acc | peak RSS MiB |",
        "| --- | --- | --- | --- | --- |",
    ]
    ratios = []
    peak = machine["fp32_peak_gflops"]
    for name, result in record["benchmarks"].items():
        if "samples_per_second" not in result:
            continue
        for variant, speed in result["samples_per_second"].items():
            lines.append(
                f"| {name} | {variant} | {speed['median']:.0f} [{speed['min']:.0f}-"
                f"{speed['max']:.0f}], {speed['n']} | {result['test_accuracy'][variant]:.4f} "
                f"| {result['peak_rss_mib'][variant]:.0f} |"
            )
        ratios.append(
            f"- {name}: "
            + ", ".join(f"{key} = {value:.2f}" for key, value in result["ratios"].items())
            + (
                f"; {result['training_mflops_per_sample']} MFLOP per training sample, tfnn at "
                f"{result['achieved_gflops']['tfnn']} GFLOP/s = "
                f"{100 * result['achieved_gflops']['tfnn'] / peak:.1f}% of peak"
                if "achieved_gflops" in result and name == "cnn"
                else ""
            )
        )
    lines += ["", "Ratios (tfnn with full logging / baseline, samples/s):", *ratios]
    startup = record["benchmarks"].get("startup")
    if startup:
        lines += ["", "| start-up | wall s (median) | peak RSS MiB |", "| --- | --- | --- |"]
        for label, result in startup.items():
            if isinstance(result, dict):
                wall, rss = result["wall_s"]["median"], result["peak_rss_mib"]
                lines.append(f"| `{label}` | {wall:.3f} | {rss:.0f} |")
    return "\n".join(lines)


if __name__ == "__main__":
    print(markdown(json.loads(open(sys.argv[1]).read())))
