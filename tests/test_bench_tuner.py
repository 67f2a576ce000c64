"""The tuner benchmark: the scikit-learn peer at a tiny N, and its table in docs/performance.md."""

from __future__ import annotations

import numpy as np

from tfnn.bench import report
from tfnn.bench.machine import contention, cpu_snapshot
from tfnn.bench.sklearn_peer import LogUniformWidth, parameter_space, sklearn_random_search
from tfnn.bench.tuner import summarize_repetitions, targets


def test_peer_space_mirrors_the_digits_space():
    rng = np.random.default_rng(0)
    widths = [LogUniformWidth(4, 256).rvs(random_state=rng) for _ in range(2000)]
    assert all(len(width) == 1 and 4 <= width[0] <= 256 for width in widths)
    # Log-uniform: about as many widths in 4-32 as in 32-256.
    assert 0.4 < np.mean([width[0] < 32 for width in widths]) < 0.6
    space = parameter_space()
    assert space["activation"] == ["logistic", "relu", "tanh"]
    assert space["solver"] == ["adam", "sgd"]
    assert space["batch_size"] == [16, 32, 64, 128, 256]
    assert space["max_iter"] == [10, 20, 40, 80]
    assert parameter_space(max_iter_cap=20)["max_iter"] == [10, 20]
    assert parameter_space(max_iter_cap=5)["max_iter"] == [5]
    for name, (low, high) in {"learning_rate_init": (1e-3, 1.0), "alpha": (1e-6, 1e-1)}.items():
        draws = space[name].rvs(size=500, random_state=1)
        assert low <= draws.min() and draws.max() <= high


def test_peer_search_selects_on_the_tuners_validation_split_and_tests_once():
    result = sklearn_random_search(trials=3, n_jobs=1, max_iter_cap=10)
    assert result["trials"] == 3
    # The same 288 held-out samples as `tfnn tune digits`, the same 360 test samples.
    assert (result["validation_samples"], result["test_samples"]) == (288, 360)
    assert 0.5 < result["best_val_accuracy"] <= 1.0
    assert 0.5 < result["test_accuracy"] <= 1.0
    assert result["best"]["max_iter"] == 10
    assert result["search_wall_s"] > 0 and result["trials_per_minute"] > 0
    # Like `tfnn tune`: the candidates cross-validated on tfnn's folds, the best mean chosen.
    rows = result["cross_validation"]
    assert result["cv_folds"] == 5 and len(rows) == 3
    assert sorted(row["validation_rank"] for row in rows) == [1, 2, 3]
    assert [row["cv_accuracy"] for row in rows] == sorted(
        (row["cv_accuracy"] for row in rows), reverse=True
    )
    assert result["best"] == rows[0]["params"]
    assert result["best_cv_accuracy"] == rows[0]["cv_accuracy"]
    alone = sklearn_random_search(trials=3, n_jobs=1, max_iter_cap=10, rerank_top=0)
    assert alone["cross_validation"] == [] and alone["best_cv_accuracy"] is None
    first_by_validation = next(row for row in rows if row["validation_rank"] == 1)
    assert alone["best"] == first_by_validation["params"]


def test_contention_counts_other_processes_cores():
    before = cpu_snapshot()
    sum(range(10**6))
    measured = contention(before, cpu_snapshot())
    assert measured["bench_cores"] == 0.0  # no child process ran
    assert "load_average_1min" in measured


def run(search_wall_s: float, test_accuracy: float, cv_s: float = 40.0) -> dict:
    return {
        "search_wall_s": search_wall_s,
        "cv_s": cv_s,
        "selection_wall_s": search_wall_s + cv_s,
        "trials_per_minute": 32.0,
        "overhead_percent": 6.5,
        "best_val_accuracy": 0.9792,
        "best_cv_accuracy": 0.9749,
        "test_accuracy": test_accuracy,
        "process_wall_s": search_wall_s + cv_s + 5.0,
        "ms_per_member_epoch": search_wall_s / 6.0,
        "pack": "auto",
        "pack_sizes": {"8": 160},
        "best": {"hidden": 52},
        "peak_rss_mib": 900.0,
        "cores_used": 1.9,
    }


def test_repetitions_give_medians_spreads_and_check_the_pick():
    runs = [run(250.0, 0.975), run(270.0, 0.975, cv_s=30.0), run(240.0, 0.975)]
    runs[1]["peak_rss_mib"] = 950.0
    summary = summarize_repetitions(runs)
    assert summary["search_wall_s"] == 250.0 and summary["spread"]["search_wall_s"] == [240, 270]
    assert summary["selection_wall_s"] == 290.0 and summary["cv_s"] == 40.0
    assert summary["peak_rss_mib"] == 950.0  # the largest, not the median
    assert summary["repetitions"] == 3 and summary["runs"] == runs
    assert summary["same_choice_every_repetition"] and summary["test_accuracy"] == 0.975
    runs[2]["best"] = {"hidden": 53}
    assert not summarize_repetitions(runs)["same_choice_every_repetition"]


def test_report_renders_the_tuner_table():
    record = {
        "date": "2026-11-24 19:00",
        "command": "scripts/bench --only tuner",
        "mode": "full",
        "machine": {
            "cpu": "AMD EPYC",
            "cores": 2,
            "tensorflow": "2.21.0",
            "keras": "3.15.1",
            "fp32_peak_gflops": 332.3,
            "derivation": "...",
        },
        "benchmarks": {
            "tuner": {
                "trials": 160,
                "max_epochs": "no cap",
                "cross_validation": {"top": 10, "folds": 5},
                "repetitions": 3,
                "tfnn": {
                    "workers=1 pack=auto": summarize_repetitions([run(25.0, 0.9806)] * 3),
                    "workers=2 pack=auto": summarize_repetitions(
                        [run(20.0, 0.9778), run(21.0, 0.9778), run(19.0, 0.9778)]
                    ),
                    "workers=1 pack=1": {
                        **summarize_repetitions([run(300.0, 0.9750)] * 3),
                        "pack": 1,
                        "pack_sizes": {"1": 160},
                    },
                },
                "sklearn": {**summarize_repetitions([run(100.0, 0.975)] * 3), "n_jobs": 2},
                "cpu": {
                    "bench_cores": 1.5,
                    "machine_busy_cores": 2.0,
                    "other_cores": 0.5,
                    "load_average_1min": [3.0, 4.0],
                },
            }
        },
    }
    record["benchmarks"]["tuner"]["targets"] = targets(record["benchmarks"]["tuner"])
    text = report.markdown(record)
    assert "| benchmark | variant" not in text  # no training cases in this record
    assert "median [min-max] of 3 repetitions" in text
    assert "then the top 10 by 5-fold cross-validation" in text
    assert (
        "| `tfnn tune digits` (keras-tuner RandomSearch), workers 2 pack auto | 20.0 [19.0-21.0] "
        "| 40.0 | 65.0 [64.0-66.0] | 32.0 | 3.3 [3.2-3.5] | 8 (160) | 6.5 | 0.9792 | 0.9749 "
        "| 0.9778 | 1.9 | 900 |"
    ) in text
    assert "pack 1 | 300.0 | 40.0 | 345.0 | 32.0 | 50.0 | 1 (160) |" in text
    assert "RandomizedSearchCV`, n_jobs 2 | 100.0 | 40.0 | 145.0 | 32.0 | 16.7 | 8 (160) |" in text
    assert "other jobs kept 0.50 of the 2 cores busy" in text
    whole = "(search, cross-validation of the top 10, retrain, test) in at most 30 s wall"
    assert f"{whole}: not met" in text
    assert "faster than the peer's search and cross-validation: met" in text
    assert "cross-validated accuracy at least 0.97: met" in text
    assert "its test accuracy at least the peer's: met" in text


def test_targets_are_judged_for_a_cold_and_a_warm_compile_cache_apart():
    cold = {**summarize_repetitions([run(30.0, 0.975)]), "compile_cache": "cold"}
    warm = {**summarize_repetitions([run(18.0, 0.975)]), "compile_cache": "warm"}
    result = {
        "tfnn": {"workers=1 pack=auto cache=cold": cold, "workers=1 pack=auto cache=warm": warm},
        # Its search and cross-validation: 60 s; tfnn's whole commands 75 and 63 s.
        "sklearn": summarize_repetitions([run(20.0, 0.975)]),
    }
    # Records of the peer before 2026-12-03 20:00 keep only its search and its
    # cross-validation apart: their sum is what the target means.
    del result["sklearn"]["selection_wall_s"]
    met = targets(result)
    faster = "the whole command faster than the peer's search and cross-validation"
    assert met[f"{faster} (compile cache cold)"] is False
    assert met[f"{faster} (compile cache warm)"] is False
    result["tfnn"]["workers=1 pack=auto cache=warm"] = {
        **summarize_repetitions([run(10.0, 0.975)]),
        "compile_cache": "warm",
    }
    met = targets(result)
    assert met[f"{faster} (compile cache warm)"] and not met[f"{faster} (compile cache cold)"]
    assert len(met) == 8
