"""The log directory stops taking writes mid-run: one error line, other runs untouched,
and the run resumes once there is room again.

Two ways to fill the disk: RLIMIT_FSIZE (files may not grow past a limit; writes
fail with EFBIG "File too large"), which needs no privileges, and a real small
tmpfs (ENOSPC), which needs root and is skipped without it.
"""

from __future__ import annotations

import hashlib
import json
import resource
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tfnn.training.backup import backed_up_epoch

pytestmark = pytest.mark.slow

TRAIN = [
    "train",
    "digits",
    "--epochs",
    "8",
    "--seed",
    "3",
    "--deterministic",
    "--no-images",
    "--embedding-samples",
    "0",
]
# Below the ~255 kB weights backup of this model: the first epoch's backup fails.
FILE_SIZE_LIMIT = 200_000
# Room for one finished run (~400 kB) and a few epochs of the next one, whose
# backup is kept twice while a new one is written beside the previous one.
TMPFS_SIZE = "900k"


def tfnn(*argv: str, file_size_limit: int | None = None) -> subprocess.CompletedProcess:
    def limit_file_size() -> None:
        # Ignored, SIGXFSZ lets the write fail with EFBIG instead of killing us.
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (file_size_limit, file_size_limit))

    return subprocess.run(
        [sys.executable, "-m", "tfnn.cli", *argv],
        capture_output=True,
        text=True,
        timeout=600,
        preexec_fn=limit_file_size if file_size_limit else None,
    )


def fingerprint(directory: Path) -> dict[str, str]:
    return {
        str(path.relative_to(directory)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(directory.rglob("*"))
        if path.is_file()
    }


def assert_one_error_line(result: subprocess.CompletedProcess, reason: str) -> None:
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("tfnn: error: cannot write the run's logs in "), lines[0]
    assert reason in lines[0]
    assert "Traceback" not in result.stderr + result.stdout


@pytest.fixture
def small_disk(tmp_path):
    mount_point = tmp_path / "small-disk"
    mount_point.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={TMPFS_SIZE}", "tmpfs", str(mount_point)],
        capture_output=True,
        text=True,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {mounted.stderr.strip()}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", str(mount_point)], check=False)


def test_file_size_limit_ends_the_run_with_one_line(tmp_path):
    logdir = tmp_path / "logs"
    earlier = tfnn(*TRAIN, "--epochs", "1", "--logdir", str(logdir))
    assert earlier.returncode == 0, earlier.stderr
    (earlier_run,) = (logdir / "digits").iterdir()
    before = fingerprint(earlier_run)

    full = tfnn(*TRAIN, "--logdir", str(logdir), file_size_limit=FILE_SIZE_LIMIT)

    assert_one_error_line(full, "File too large")
    assert fingerprint(earlier_run) == before
    (failed_run,) = set((logdir / "digits").iterdir()) - {earlier_run}
    results = json.loads((failed_run / "results.json").read_text())
    assert results["status"] == "failed"
    assert "File too large" in results["failure"]


def test_full_disk_mid_run_then_resume_gives_the_uninterrupted_numbers(small_disk):
    logdir = small_disk / "logs"
    finished = tfnn(*TRAIN, "--logdir", str(logdir))
    assert finished.returncode == 0, finished.stderr
    (earlier_run,) = (logdir / "digits").iterdir()
    before = fingerprint(earlier_run)

    full = tfnn(*TRAIN, "--logdir", str(logdir))

    assert_one_error_line(full, "No space left on device")
    assert fingerprint(earlier_run) == before
    (failed_run,) = set((logdir / "digits").iterdir()) - {earlier_run}
    backed_up = backed_up_epoch(failed_run)
    assert 0 < backed_up < 8, "the disk should fill up mid-run"

    subprocess.run(["mount", "-o", "remount,size=16m", str(small_disk)], check=True)
    resumed = tfnn("train", "digits", "--resume", str(failed_run))

    assert resumed.returncode == 0, resumed.stderr
    results = json.loads((failed_run / "results.json").read_text())
    expected = json.loads((earlier_run / "results.json").read_text())
    assert results["status"] == "finished"
    assert results["resumed_at_epochs"] == [backed_up]
    assert results["metrics"] == expected["metrics"]
    assert fingerprint(earlier_run) == before
