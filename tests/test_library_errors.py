"""Library errors name config fields; the command line shows the same error with flags."""

from __future__ import annotations

import pytest

from tfnn.board import check_port_free, start
from tfnn.cli import main
from tfnn.errors import ConfigError
from tfnn.reproduce.report import reproduce
from tfnn.reproduce.sections import select_parts
from tfnn.studies.cnn_variants import parse_only
from tfnn.studies.dnn_compare import run_study as dnn_compare
from tfnn.studies.grid import chosen_axes, study_dir_to_use
from tfnn.studies.vu_mlp import run_study as vu_mlp


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda tmp: check_port_free(0), "port"),
        (lambda tmp: start(str(tmp / "missing"), 6006), "logdir"),
        (lambda tmp: start(str(tmp), 6006, reload_interval=-1), "reload_interval"),
        (lambda tmp: select_parts(["bogus"]), "only"),
        (lambda tmp: reproduce(str(tmp), resume=str(tmp)), "resume"),
        (lambda tmp: parse_only(["shape"]), "only"),
        (lambda tmp: chosen_axes(["depth"], ["width"]), "only"),
        (lambda tmp: study_dir_to_use(str(tmp), str(tmp), "studies/vu-mlp", "x"), "resume"),
        (lambda tmp: vu_mlp(logdir=str(tmp), seeds=0), "seeds"),
        (lambda tmp: dnn_compare(logdir=str(tmp), from_runs=["a"]), "from_runs"),
        (lambda tmp: dnn_compare(logdir=str(tmp), from_runs=["a", "b"]), "from_runs"),
    ],
)
def test_errors_name_the_field_and_print_as_the_flag(tmp_path, call, field):
    with pytest.raises(ConfigError) as caught:
        call(tmp_path)
    flag = "--" + field.replace("_", "-")
    assert caught.value.fields[0] == field
    assert str(caught.value).startswith(field) and flag not in str(caught.value)
    assert caught.value.with_flags().startswith(flag)


def test_the_flag_an_error_names_exists(tmp_path, capsys):
    # dnn-compare's error names from_runs: --from-runs is accepted as well as --from.
    argv = ["study", "dnn-compare", "--from-runs", "a", "--logdir", str(tmp_path)]
    assert main(argv) == 2
    assert capsys.readouterr().err.startswith("tfnn: error: --from-runs needs two run directories")
