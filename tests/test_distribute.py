"""--strategy, TF_CONFIG, `tfnn launch` and multi-worker training on 127.0.0.1."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from tfnn.cli import build_parser
from tfnn.cli_flags import config_from_args
from tfnn.configs.digits import DigitsConfig
from tfnn.distribute.cluster import loopback_tf_configs, read_tf_config
from tfnn.distribute.launch import free_ports
from tfnn.errors import ConfigError
from tfnn.evaluate import config_from_results
from tfnn.training.backup import backed_up_epoch

import events

# A small digits run: 1,437 training images, 45 steps of 32 per epoch.
DIGITS = [
    "--hidden",
    "64",
    "--seed",
    "3",
    "--no-images",
    "--embedding-samples",
    "0",
    "--log-every",
    "15",
    "--stats-every",
    "45",
]


def tfnn(*argv: str, env: dict | None = None, timeout: float = 120):
    return subprocess.run(
        [sys.executable, "-m", "tfnn.cli", *argv],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", **(env or {})},
    )


def run_dirs(logdir: Path) -> list[Path]:
    return sorted((logdir / "digits").iterdir()) if (logdir / "digits").is_dir() else []


def read_results(run_dir: Path) -> dict:
    return json.loads((run_dir / "results.json").read_text())


def train_in_one_process(logdir: Path, epochs: int) -> dict:
    """The DIGITS run in this process, with the 2-worker runs' global batch of 32."""
    from tfnn.experiments.digits import DIGITS as EXPERIMENT
    from tfnn.experiments.spec import run_experiment

    args = build_parser().parse_args(["train", "digits", *DIGITS, "--epochs", str(epochs)])
    config = config_from_args(DigitsConfig, args)
    config = DigitsConfig(**{**config.to_dict(), "batch_size": 32, "logdir": str(logdir)})
    return run_experiment(EXPERIMENT, config, print_fn=lambda *a, **k: None)


# --- TF_CONFIG and the command line (no TensorFlow) ---


def test_loopback_tf_configs_make_worker0_the_chief():
    ports = free_ports(3)
    assert len(set(ports)) == 3
    tasks = [read_tf_config({"TF_CONFIG": text}) for text in loopback_tf_configs(ports)]
    assert [task.is_chief for task in tasks] == [True, False, False]
    assert tasks[2].cluster["worker"][2] == f"127.0.0.1:{ports[2]}"
    assert {task.num_workers for task in tasks} == {3}


def test_a_chief_task_is_the_chief_when_the_cluster_has_one():
    cluster = {"chief": ["a:1"], "worker": ["b:2"]}
    as_worker = {"cluster": cluster, "task": {"type": "worker", "index": 0}}
    as_chief = {"cluster": cluster, "task": {"type": "chief", "index": 0}}
    assert not read_tf_config({"TF_CONFIG": json.dumps(as_worker)}).is_chief
    assert read_tf_config({"TF_CONFIG": json.dumps(as_chief)}).is_chief


@pytest.mark.parametrize(
    "tf_config, fragment",
    [
        ("", "TF_CONFIG is not set"),
        ("{nope", "TF_CONFIG is not valid JSON"),
        ('{"task": {"type": "worker", "index": 0}}', 'no "cluster"'),
        ('{"cluster": {"worker": ["host"]}, "task": {"type": "worker", "index": 0}}', "host:port"),
        ('{"cluster": {"ps": ["a:1"]}, "task": {"type": "ps", "index": 0}}', "role 'ps'"),
        ('{"cluster": {"worker": ["a:1"]}}', 'no "task"'),
        ('{"cluster": {"worker": ["a:1"]}, "task": {"type": "worker", "index": 1}}', "outside"),
    ],
)
def test_bad_tf_config_is_a_config_error(tf_config, fragment):
    with pytest.raises(ConfigError, match="--strategy multiworker") as error:
        read_tf_config({"TF_CONFIG": tf_config})
    assert fragment in str(error.value)


@pytest.mark.parametrize(
    "argv, env, fragment",
    [
        (["train", "digits", "--strategy", "multiworker"], {}, "TF_CONFIG is not set"),
        (
            ["train", "digits", "--strategy", "multiworker"],
            {"TF_CONFIG": '{"cluster": {}}'},
            'TF_CONFIG has no "cluster"',
        ),
        (["train", "digits", "--strategy", "many"], {}, "--strategy 'many' is not allowed"),
        (["launch", "--workers", "2", "--", "tune", "digits"], {}, "needs a training command"),
        (["launch", "--workers", "0", "--", "train", "digits"], {}, "--workers 0"),
        (
            ["launch", "--", "train", "digits", "--strategy", "mirrored"],
            {},
            "--strategy mirrored is not allowed with launch",
        ),
    ],
)
def test_bad_distribution_settings_exit_2_with_one_line(argv, env, fragment):
    result = tfnn(*argv, env={"TF_CONFIG": "", **env})
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("tfnn: error:"), result.stderr
    assert fragment in lines[0]


def test_new_flags_reach_the_config_and_old_results_still_load():
    args = build_parser().parse_args(
        ["train", "digits", "--strategy", "mirrored", "--mixed-precision", "--jit"]
    )
    config = config_from_args(DigitsConfig, args)
    assert (config.strategy, config.mixed_precision, config.jit_compile) == (
        "mirrored",
        True,
        True,
    )
    recorded = DigitsConfig().to_dict()
    for new_field in ("strategy", "mixed_precision"):
        del recorded[new_field]
    old = config_from_results({"experiment": "digits", "config": recorded})
    assert (old.strategy, old.mixed_precision) == ("default", False)


def test_tune_takes_mirrored_but_not_multiworker():
    from tfnn.configs.tune import TuneConfig

    assert TuneConfig(strategy="mirrored").strategy == "mirrored"
    with pytest.raises(ConfigError, match="workers N runs trials in parallel"):
        TuneConfig(strategy="multiworker")


# --- one process ---


def test_replica_batches_cut_the_single_process_batches():
    import tensorflow as tf

    from tfnn.training.multiworker import replica_batches
    from tfnn.training.streams import make_training_stream

    x = np.arange(50, dtype="float32").reshape(25, 2)
    y = np.arange(25)
    single = [
        labels.numpy() for _, labels in make_training_stream(x, y, 8, seed=1, first_step=2).take(6)
    ]
    shares = []
    for worker in range(2):
        context = tf.distribute.InputContext(2, worker, 2)
        stream = replica_batches(context, x, y, 8, seed=1, first_step=2, replicas=2)
        shares.append([(labels.numpy(), float(size)) for _, labels, size in stream.take(6)])
    for step, batch in enumerate(single):
        (first, size), (second, _) = shares[0][step], shares[1][step]
        np.testing.assert_array_equal(np.concatenate([first, second]), batch)
        assert size == len(batch)  # 8, except the last, partial batch of a pass (1)


def small_digits_config(**overrides) -> DigitsConfig:
    """32 hidden units and none of the per-run images, embeddings or statistics."""
    settings = dict(hidden=32, images=False, embedding_samples=0, layer_statistics=False)
    return DigitsConfig(**{**settings, **overrides})


def test_mirrored_strategy_trains_like_the_default_one(tmp_path):
    from tfnn.experiments.digits import DIGITS as EXPERIMENT
    from tfnn.experiments.spec import run_experiment

    results = {}
    for strategy in ("default", "mirrored"):
        config = small_digits_config(epochs=2, strategy=strategy, logdir=str(tmp_path / strategy))
        results[strategy] = run_experiment(EXPERIMENT, config, print_fn=lambda *a, **k: None)
    assert results["mirrored"]["replicas"] == 1  # the CPU, without GPUs
    assert results["mirrored"]["steps_per_epoch"] == results["default"]["steps_per_epoch"]
    for name, value in results["default"]["metrics"].items():
        assert results["mirrored"]["metrics"][name] == pytest.approx(value, rel=1e-5)


MIRRORED_OVER_TWO_CPUS = """
import json, sys
import tensorflow as tf
cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
one_device_strategy = tf.distribute.MirroredStrategy
tf.distribute.MirroredStrategy = lambda: one_device_strategy(["/cpu:0", "/cpu:1"])
from tfnn.configs.digits import DigitsConfig
from tfnn.experiments.digits import DIGITS
from tfnn.experiments.spec import run_experiment
results = {}
for strategy, batch_size in (("mirrored", 16), ("default", 32)):
    config = DigitsConfig(
        epochs=2, hidden=32, batch_size=batch_size, strategy=strategy, images=False,
        layer_statistics=False, embedding_samples=0, logdir=sys.argv[1],
    )
    results[strategy] = run_experiment(DIGITS, config, print_fn=lambda *a, **k: None)
print(json.dumps(results))
"""


@pytest.mark.slow
def test_mirrored_over_two_devices_fits_with_the_global_batch(tmp_path):
    result = subprocess.run(
        [sys.executable, "-c", MIRRORED_OVER_TWO_CPUS, str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    results = json.loads(result.stdout.strip().splitlines()[-1])
    mirrored, default = results["mirrored"], results["default"]
    assert (mirrored["replicas"], mirrored["global_batch_size"]) == (2, 32)
    assert mirrored["steps_per_epoch"] == default["steps_per_epoch"] == 45
    for name, value in default["metrics"].items():
        assert mirrored["metrics"][name] == pytest.approx(value, rel=1e-3)


def test_mixed_precision_keeps_a_float32_softmax_and_notes_the_cpu(tmp_path):
    import keras

    from tfnn.experiments.digits import DIGITS as EXPERIMENT
    from tfnn.experiments.spec import run_experiment

    lines = []
    config = small_digits_config(
        epochs=1, mixed_precision=True, jit_compile=True, logdir=str(tmp_path)
    )
    results = run_experiment(EXPERIMENT, config, print_fn=lambda line, **_: lines.append(line))
    notes = [line for line in lines if line.startswith("note:")]
    assert len(notes) == 1 and "--mixed-precision and --jit-compile" in notes[0]
    model = keras.models.load_model(Path(results["run_dir"]) / "model.keras", compile=False)
    assert model.get_layer("hidden1").dtype_policy.name == "mixed_float16"
    assert model.output.dtype == "float32"
    assert keras.config.dtype_policy().name == "float32"  # restored for later models
    assert results["metrics"]["test_accuracy"] > 0.5  # one epoch of 32 units


# --- several processes on 127.0.0.1 ---


def launch(scratch: Path, *flags: str, **popen) -> subprocess.Popen:
    """`tfnn launch --workers 2 -- train digits ...`, in its own process group."""
    return subprocess.Popen(
        [sys.executable, "-m", "tfnn.cli", "launch", "--workers", "2", "--"]
        + ["train", "digits", *flags],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "TMPDIR": str(scratch)},
        start_new_session=True,
        **popen,
    )


def kill_job(process: subprocess.Popen) -> None:
    """Kills a launcher still running and every worker it started (its process group)."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGKILL)
    process.communicate()


def finish(process: subprocess.Popen, timeout: float = 240) -> tuple[int, str, str]:
    """Waits for a launcher; kills the job when it takes longer."""
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    finally:
        kill_job(process)
    return process.returncode, stdout, stderr


@pytest.fixture
def scratch(tmp_path) -> Path:
    path = tmp_path / "tmp"
    path.mkdir()
    return path


@pytest.mark.slow
def test_two_workers_train_like_one_process_with_the_same_global_batch(tmp_path, scratch):
    workers = launch(
        scratch, *DIGITS, "--epochs", "3", "--batch-size", "16", "--logdir", str(tmp_path / "two")
    )
    single = train_in_one_process(tmp_path / "one", epochs=3)
    code, stdout, stderr = finish(workers)
    assert code == 0, stdout[-3000:] + stderr[-3000:]
    assert "[worker0]" in stdout and "[worker1] worker finished" in stdout

    (run_dir,) = run_dirs(tmp_path / "two")  # the chief's, and nothing else
    assert list(scratch.iterdir()) == []  # the other worker's directory is gone
    results = read_results(run_dir)
    assert (results["replicas"], results["global_batch_size"]) == (2, 32)
    assert results["config"]["strategy"] == "multiworker"
    assert results["steps_per_epoch"] == single["steps_per_epoch"] == 45
    assert results["epochs_completed"] == single["epochs_completed"] == 3

    multi_scalars = events.scalars(run_dir / "train")
    single_scalars = events.scalars(Path(single["run_dir"]) / "train")
    assert [s for s, _ in multi_scalars["step_loss"]] == [s for s, _ in single_scalars["step_loss"]]
    assert multi_scalars["step_loss"][-1][0] == 3 * 45
    losses = [loss for _, loss in multi_scalars["epoch_loss"]]
    assert losses[0] > losses[1] > losses[2]
    # The same batches and the same sums, only added in another order.
    np.testing.assert_allclose(losses, [v for _, v in single_scalars["epoch_loss"]], rtol=1e-4)
    assert results["metrics"]["test_accuracy"] == pytest.approx(
        single["metrics"]["test_accuracy"], abs=0.01
    )
    assert {"MatMul", "ReluGrad"} <= events.graph_ops(run_dir / "train")
    assert "statistics/hidden1/weights" in events.histogram_steps(run_dir / "train")
    assert (run_dir / "model.keras").is_file() and not (run_dir / "backup").exists()


def _worker_pid(launcher_pid: int, index: int, timeout: float = 60) -> int:
    """The pid of the launcher's child whose TF_CONFIG has task index ``index``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        children = Path(f"/proc/{launcher_pid}/task/{launcher_pid}/children").read_text().split()
        for pid in children:
            try:
                environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
            except OSError:
                continue
            tf_config = [v for v in environ if v.startswith(b"TF_CONFIG=")]
            if tf_config and json.loads(tf_config[0][10:])["task"]["index"] == index:
                return int(pid)
        time.sleep(0.1)
    raise AssertionError("worker not found")


def _backed_up_epoch(logdir: Path) -> int:
    return max((backed_up_epoch(run) for run in logdir.glob("digits/*")), default=0)


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="finds workers through /proc")
def test_killing_a_worker_fails_the_job_and_resume_continues_from_the_last_epoch(tmp_path, scratch):
    logdir = tmp_path / "logs"
    epochs = 12
    flags = [*DIGITS, "--epochs", str(epochs), "--batch-size", "16"]
    launcher = launch(scratch, *flags, "--logdir", str(logdir))
    try:
        worker1 = _worker_pid(launcher.pid, 1)
        deadline = time.monotonic() + 120
        while _backed_up_epoch(logdir) < 2 and time.monotonic() < deadline:
            assert launcher.poll() is None, "the job ended before a worker could be killed"
            time.sleep(0.02)
        os.kill(worker1, signal.SIGKILL)
    except BaseException:
        kill_job(launcher)
        raise
    code, stdout, stderr = finish(launcher, timeout=60)
    assert code == 2
    (run_dir,) = run_dirs(logdir)
    assert stderr.strip().splitlines()[-1] == (
        "tfnn: error: worker1 was killed by SIGKILL (its output is above, prefixed "
        "[worker1]); the other workers were stopped; continue from the last finished "
        f"epoch with `tfnn launch --workers 2 -- train digits --resume {run_dir}`"
    )
    killed_at = _backed_up_epoch(logdir)
    assert 2 <= killed_at < epochs
    assert list(scratch.iterdir()) == []

    resumed = launch(scratch, "--resume", str(run_dir))
    single = train_in_one_process(tmp_path / "one", epochs=epochs)  # meanwhile
    code, stdout, stderr = finish(resumed)
    assert code == 0, stdout[-3000:] + stderr[-3000:]
    assert run_dirs(logdir) == [run_dir]
    results = read_results(run_dir)
    assert results["status"] == "finished"
    assert results["resumed_at_epochs"] == [killed_at]
    assert results["epochs_completed"] == epochs
    scalars = events.scalars(run_dir / "train")
    assert [step for step, _ in scalars["epoch_loss"]] == list(range(1, epochs + 1))
    steps = [step for step, _ in scalars["step_loss"]]
    assert steps == sorted(set(steps)) and steps[-1] == epochs * 45
    losses = [loss for _, loss in scalars["epoch_loss"]]
    assert losses[killed_at] < losses[0]  # the resumed epoch starts from trained weights
    # Resumed with the weights, optimizer state and batches the killed run would have had.
    for name, value in single["metrics"].items():
        assert results["metrics"][name] == pytest.approx(value, rel=1e-3)
