"""Kill -9 a training run, resume it, and get the uninterrupted run's numbers."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tfnn.training.backup import backed_up_epoch

import events

TRAIN = [
    "train",
    "digits",
    "--epochs",
    "40",
    "--batch-size",
    "16",
    "--seed",
    "5",
    "--deterministic",
    "--no-images",
    "--embedding-samples",
    "0",
    "--log-every",
    "25",
    "--stats-every",
    "25",
]


def tfnn(*argv: str, **kwargs):
    return subprocess.run(
        [sys.executable, "-m", "tfnn.cli", *argv],
        capture_output=True,
        text=True,
        timeout=600,
        **kwargs,
    )


def only_run(logdir: Path) -> Path:
    (run_dir,) = (logdir / "digits").iterdir()
    return run_dir


def kill_after_epoch(logdir: Path, epoch: int) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "tfnn.cli", *TRAIN, "--logdir", str(logdir)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and process.poll() is None:
        if any(backed_up_epoch(run) >= epoch for run in logdir.glob("digits/*")):
            break
        time.sleep(0.01)
    assert process.poll() is None, "the run finished before it could be killed"
    os.kill(process.pid, signal.SIGKILL)
    process.wait()


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    logdir = tmp_path_factory.mktemp("whole")
    result = tfnn(*TRAIN, "--logdir", str(logdir))
    assert result.returncode == 0, result.stderr
    return json.loads((only_run(logdir) / "results.json").read_text())


@pytest.mark.slow
def test_killed_run_resumes_to_identical_metrics(uninterrupted, tmp_path):
    kill_after_epoch(tmp_path, epoch=3)
    run_dir = only_run(tmp_path)
    killed = json.loads((run_dir / "results.json").read_text())
    assert killed["status"] == "running" and killed["epochs_completed"] < 40

    result = tfnn("train", "digits", "--resume", str(run_dir))
    assert result.returncode == 0, result.stderr
    resumed = json.loads((run_dir / "results.json").read_text())
    assert resumed["status"] == "finished"
    assert resumed["resumed_at_epochs"] and resumed["resumed_at_epochs"][0] >= 3
    assert resumed["metrics"] == uninterrupted["metrics"]
    assert len(resumed["epoch_times_s"]) == 40

    # Curves continue: every epoch and every logged step exactly once.
    train = events.scalars(run_dir / "train")
    assert [step for step, _ in train["epoch_accuracy"]] == list(range(1, 41))
    whole = events.scalars(Path(uninterrupted["run_dir"]) / "train")
    assert [step for step, _ in train["step_loss"]] == [step for step, _ in whole["step_loss"]]
    tag = "statistics/hidden1/weights"
    assert (
        events.histogram_steps(run_dir / "train")[tag]
        == events.histogram_steps(Path(uninterrupted["run_dir"]) / "train")[tag]
    )


def test_resume_refuses_what_is_not_an_unfinished_run(uninterrupted, tmp_path):
    finished = tfnn("train", "digits", "--resume", uninterrupted["run_dir"])
    assert finished.returncode == 2
    assert "has already finished" in finished.stderr
    not_a_run = tfnn("train", "digits", "--resume", str(tmp_path))
    assert not_a_run.returncode == 2 and "is not a tfnn run directory" in not_a_run.stderr
    with_flags = tfnn("train", "digits", "--resume", str(tmp_path), "--epochs", "3")
    assert with_flags.returncode == 2 and "drop --epochs" in with_flags.stderr
    for result in (finished, not_a_run, with_flags):
        assert len(result.stderr.strip().splitlines()) == 1
    assert list(tmp_path.iterdir()) == []  # nothing written into the directory


def test_ctrl_c_exits_130_and_marks_the_run_interrupted(tmp_path):
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tfnn.cli",
            *TRAIN[:3],
            "400",
            *TRAIN[4:],
            "--logdir",
            str(tmp_path),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and not list(tmp_path.glob("digits/*/backup")):
        time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 130
    assert stderr.strip().splitlines() == ["tfnn: interrupted; logs written so far are kept"]
    results = json.loads((only_run(tmp_path) / "results.json").read_text())
    assert results["status"] == "interrupted"


def test_epoch_backup_restores_model_and_optimizer_by_position(tmp_path):
    import keras
    import numpy as np

    from tfnn.errors import TfnnError
    from tfnn.training.backup import EpochBackup, state_path

    def model(width: int) -> keras.Model:
        net = keras.Sequential([keras.Input((3,)), keras.layers.Dense(width)])
        net.compile(optimizer="adam", loss="mse")
        net.fit(np.ones((4, 3)), np.ones((4, width)), verbose=0)
        return net

    trained = model(2)
    backup = EpochBackup(tmp_path)
    backup.set_model(trained)
    backup.on_epoch_end(4)
    assert backed_up_epoch(tmp_path) == 5
    assert not list(state_path(tmp_path).parent.glob("*.partial"))

    fresh = model(2)  # other values, and other names (sequential_1, dense_1)
    restore = EpochBackup(tmp_path)
    restore.set_model(fresh)
    restore.on_train_begin()
    assert fresh._initial_epoch == 5
    for saved, restored in zip(
        trained.variables + trained.optimizer.variables,
        fresh.variables + fresh.optimizer.variables,
        strict=True,
    ):
        np.testing.assert_array_equal(np.asarray(saved), np.asarray(restored))

    other = EpochBackup(tmp_path)
    other.set_model(model(3))
    with pytest.raises(TfnnError, match="another model"):
        other.on_train_begin()
    state_path(tmp_path).write_bytes(b"not a zip")
    with pytest.raises(TfnnError, match="cannot read the backup"):
        backed_up_epoch(tmp_path)


def test_an_interrupt_whose_exception_was_dropped_still_stops_training(monkeypatch):
    import keras
    import numpy as np

    from tfnn import interrupts
    from tfnn.training.callbacks import StopOnInterrupt

    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    monkeypatch.setattr(interrupts, "requested", lambda: True)
    with pytest.raises(KeyboardInterrupt):
        model.fit(np.ones((8, 2)), np.ones(8), epochs=2, verbose=0, callbacks=[StopOnInterrupt()])
    monkeypatch.undo()
    interrupts.install_handler()
    assert not interrupts.requested()
    model.fit(np.ones((8, 2)), np.ones(8), epochs=1, verbose=0, callbacks=[StopOnInterrupt()])


def test_epoch_backup_resumes_a_run_backed_up_by_keras(tmp_path):
    """Runs interrupted under an older tfnn hold Keras' BackupAndRestore files."""
    import keras
    import numpy as np

    from tfnn.training.backup import BACKUP_DIR, EpochBackup

    def model() -> keras.Model:
        net = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
        net.compile(optimizer="adam", loss="mse")
        net.fit(np.ones((4, 3)), np.ones((4, 2)), verbose=0)
        return net

    old = model()
    keras_backup = keras.callbacks.BackupAndRestore(str(tmp_path / BACKUP_DIR))
    keras_backup.set_model(old)
    keras_backup.on_epoch_end(6)
    assert backed_up_epoch(tmp_path) == 7

    fresh = model()
    restore = EpochBackup(tmp_path)
    restore.set_model(fresh)
    restore.on_train_begin()
    assert fresh._initial_epoch == 7
    np.testing.assert_array_equal(old.layers[0].kernel.numpy(), fresh.layers[0].kernel.numpy())
