"""Pack programs saved by XLA and loaded by the next process: stable names, one
directory per TensorFlow and CPU, damaged files removed, the size kept bounded."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tfnn.tuning import compile_cache

# Trains a small pack after tracing ``extra`` unrelated functions (which moves
# TensorFlow's running count of function names), prints its numbers.
PACK_RUN = """
import json, sys
from tfnn.tuning import compile_cache
compile_cache.enable()
import tensorflow as tf
for _ in range(int(sys.argv[1])):
    tf.function(lambda v: v + 1)(tf.constant(1.0))
sys.path.insert(0, sys.argv[2])
from test_packs import fit_data, hp_of
from tfnn.configs.tune import TuneConfig
from tfnn.tuning.hypermodels import DigitsHyperModel
from tfnn.tuning.packs import PackMember, PackTrainer
from tfnn.tuning.search import load_search_data
config = TuneConfig(experiment="digits")
hypermodel = DigitsHyperModel(load_search_data(config), config)
x, y, fit_rows, validation_rows = fit_data(hypermodel)
values = dict(activation="tanh", optimizer="adam", learning_rate=0.01, epochs=2)
members = [
    PackMember(hypermodel.build(hp_of(hypermodel, values | {"hidden": hidden}, 64)), 2,
               fit_rows, validation_rows, {2})
    for hidden in (8, 40)
]
trainer = PackTrainer(members, x, y, 64, seed=0, jit_compile=True, size=2)
print(json.dumps([result.last for result in trainer.fit()]))
"""


def run_pack(cache: Path, extra: int) -> list[dict]:
    env = {**os.environ, compile_cache.VARIABLE: str(cache)}
    done = subprocess.run(
        [sys.executable, "-c", PACK_RUN, str(extra), str(Path(__file__).parent)],
        capture_output=True,
        text=True,
        env=env,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def cached_programs(cache: Path) -> dict[str, float]:
    return {path.name: path.stat().st_mtime for path in cache.rglob("*.pb")}


@pytest.mark.slow
def test_a_second_process_loads_the_programs_the_first_compiled(tmp_path):
    first = run_pack(tmp_path, extra=0)
    written = cached_programs(tmp_path)
    # The epoch and the validation's scoring, in the directory of this TensorFlow
    # and CPU.
    assert len(written) == 2
    assert {path.parent.name for path in tmp_path.rglob("*.pb")} == {compile_cache.machine_tag()}
    # Other traces before (other function numbers): the same names, so the same
    # entries, loaded rather than compiled and written again; the same numbers.
    second = run_pack(tmp_path, extra=5)
    assert cached_programs(tmp_path) == written
    assert second == first


def test_damaged_files_and_interrupted_writes_are_removed(tmp_path):
    machine = tmp_path / "tf-x-cpu"
    machine.mkdir()
    good = machine / "xla_compile_cache__1__2__XLA_CPU_JIT.pb"
    # A well-formed message: field 1, length-delimited, 3 bytes.
    good.write_bytes(b"\x0a\x03abc")
    truncated = machine / "xla_compile_cache__3__4__XLA_CPU_JIT.pb"
    truncated.write_bytes(b"\x0a\x09abc")  # says 9 bytes, holds 3: what TF fails on
    fresh_tmp = machine / "xla_compile_cache__5__6__XLA_CPU_JIT.pbvm-1.tmp"
    fresh_tmp.write_bytes(b"partial")
    stale_tmp = machine / "xla_compile_cache__7__8__XLA_CPU_JIT.pbvm-2.tmp"
    stale_tmp.write_bytes(b"partial")
    old = time.time() - 2 * compile_cache.STALE_SECONDS
    os.utime(stale_tmp, (old, old))
    compile_cache.tidy(tmp_path)
    assert sorted(path.name for path in machine.iterdir()) == sorted([good.name, fresh_tmp.name])


def test_the_oldest_programs_go_past_the_limit(tmp_path, monkeypatch):
    monkeypatch.setattr(compile_cache, "LIMIT_BYTES", 250)
    for index in range(4):
        path = tmp_path / f"p{index}.pb"
        path.write_bytes(b"\x0a\x62" + bytes(98))  # 100 bytes, well formed
        os.utime(path, (1000 + index, 1000 + index))
    compile_cache.tidy(tmp_path)
    assert sorted(path.name for path in tmp_path.iterdir()) == ["p2.pb", "p3.pb"]


def test_where_the_cache_lives(tmp_path, monkeypatch):
    monkeypatch.setenv(compile_cache.VARIABLE, "off")
    assert compile_cache.cache_root() is None
    monkeypatch.setenv(compile_cache.VARIABLE, str(tmp_path / "mine"))
    assert compile_cache.cache_root() == tmp_path / "mine"
    monkeypatch.delenv(compile_cache.VARIABLE)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert compile_cache.cache_root() == tmp_path / "xdg" / "tfnn" / "xla"
    tag = compile_cache.machine_tag()
    assert tag.startswith("tf-") and tag == compile_cache.machine_tag()


def test_no_cache_on_a_nearly_full_disk(tmp_path, monkeypatch):
    # TensorFlow fails the program itself when it cannot write its file.
    monkeypatch.setattr(compile_cache, "_state", {"decided": False, "generation": 0})
    monkeypatch.setenv(compile_cache.VARIABLE, str(tmp_path))
    # One inherited from a parent process goes too.
    monkeypatch.setenv("TF_XLA_FLAGS", f"--xla_other=1 {compile_cache.FLAG}=/parent/cache")
    usage = compile_cache.shutil.disk_usage(tmp_path)
    monkeypatch.setattr(
        compile_cache.shutil,
        "disk_usage",
        lambda path: usage._replace(free=compile_cache.ROOM_BYTES - 1),
    )
    assert compile_cache.enable() is None
    assert os.environ["TF_XLA_FLAGS"] == "--xla_other=1"


def test_no_cache_in_a_folder_whose_path_has_spaces(tmp_path, monkeypatch):
    # TensorFlow splits TF_XLA_FLAGS at whitespace.
    monkeypatch.setattr(compile_cache, "_state", {"decided": False, "generation": 0})
    monkeypatch.setenv(compile_cache.VARIABLE, str(tmp_path / "my cache"))
    monkeypatch.setenv("TF_XLA_FLAGS", "")
    assert compile_cache.enable() is None
    assert os.environ["TF_XLA_FLAGS"] == ""
    assert not (tmp_path / "my cache").exists()
