"""Hand gradients vs tape vs finite differences, and the graphs written for TensorBoard."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from tfnn.autodiff import functions
from tfnn.autodiff.checks import format_table, relative_error, tape_gradients
from tfnn.autodiff.graphs import GRAPH_SIGNATURES, run_graphs, tensor_rule_checks

TOLERANCE = 1e-6


def scalar(value: float) -> tf.Tensor:
    return tf.constant(value, tf.float64)


@pytest.fixture(scope="module")
def graph_run(tmp_path_factory):
    logdir = tmp_path_factory.mktemp("autodiff_graphs")
    return logdir, run_graphs(logdir, echo=False)


def test_every_gradient_check_agrees(graph_run):
    _, rows = graph_run
    assert len(rows) >= 25
    failures = [
        f"{row.function} d/d{row.variable} at {row.point}" for row in rows if not row.passed()
    ]
    assert not failures
    assert all(row.relative_error <= TOLERANCE for row in rows)


@pytest.mark.parametrize(
    "name, expected_ops",
    [
        ("sinc", {"Sin", "RealDiv", "SelectV2"}),
        ("quadratic_form", {"Mul", "AddV2"}),
        ("softplus", {"Exp", "Log1p"}),
        ("softplus_derivatives", {"Log1p", "Exp", "Reciprocal"}),
        ("eece_graph", {"Mul", "Maximum", "Sigmoid"}),
        ("divide", {"RealDiv"}),
        ("elementwise_tanh", {"Tanh"}),
        ("matmul", {"MatMul"}),
        ("expand", {"BroadcastTo"}),
        ("custom_relu", {"IdentityN", "SelectV2"}),
    ],
)
def test_run_graphs_writes_one_graph_per_function(graph_run, name, expected_ops):
    logdir, _ = graph_run
    accumulator = EventAccumulator(str(logdir / name))
    accumulator.Reload()
    ops = {node.op for node in accumulator.Graph().node}
    assert expected_ops <= ops


def test_graph_names_cover_every_directory(graph_run):
    logdir, _ = graph_run
    assert {path.name for path in logdir.iterdir()} == set(GRAPH_SIGNATURES)


def test_table_has_a_line_per_check(graph_run):
    _, rows = graph_run
    table = format_table(rows)
    assert len(table.splitlines()) == len(rows) + 2
    assert table.splitlines()[0].startswith("function")


def test_sinc_matches_the_assignment_at_ten():
    x = scalar(10.0)
    assert functions.sinc(x).numpy() == pytest.approx(-0.054402113, abs=5e-9)
    assert functions.sinc_gradient(x).numpy() == pytest.approx(-0.07846694, abs=5e-9)
    (tape,) = tape_gradients(functions.sinc, [10.0])
    assert tape == pytest.approx(-0.07846694, abs=5e-9)


def test_sinc_limit_at_zero_has_no_nan():
    points = np.array([0.0, -0.0, 1e-300, 1e-8, 0.0999, 0.1, 0.1001, 3.0])
    (tape,) = tape_gradients(functions.sinc, [points])
    value = functions.sinc(tf.constant(points)).numpy()
    assert np.all(np.isfinite(value)) and np.all(np.isfinite(tape))
    assert value[0] == 1.0 and tape[0] == 0.0
    # The series and sin(x)/x meet at the switch point without a visible seam.
    nonzero = points[3:]
    np.testing.assert_allclose(value[3:], np.sin(nonzero) / nonzero, rtol=1e-15)
    # The closed form itself cancels catastrophically at 1e-8, so compare from 0.0999 on.
    far = points[4:]
    exact_gradient = np.cos(far) / far - np.sin(far) / far**2
    np.testing.assert_allclose(tape[4:], exact_gradient, rtol=1e-12)
    np.testing.assert_allclose(
        functions.sinc_gradient(tf.constant(points)).numpy(), tape, atol=1e-15
    )


@pytest.mark.parametrize("x", [-1000.0, 1000.0])
def test_softplus_stays_finite_at_extremes(x):
    value, first, second = (t.numpy() for t in functions.softplus_derivatives(scalar(x)))
    assert np.isfinite([value, first, second]).all()
    assert value == pytest.approx(max(x, 0.0))
    assert first == (1.0 if x > 0 else 0.0)
    assert second == 0.0


@pytest.mark.parametrize("x", [-30.0, -2.0, 0.0, 0.7, 4.0, 30.0])
def test_softplus_second_derivative_is_sigmoid_times_one_minus_sigmoid(x):
    value, first, second = (t.numpy() for t in functions.softplus_derivatives(scalar(x)))
    sigmoid = 1 / (1 + np.exp(-x))
    assert value == pytest.approx(np.logaddexp(0.0, x), rel=1e-14)
    assert first == pytest.approx(sigmoid, rel=1e-14)
    # sigmoid(-x) in place of 1 - sigmoid keeps the reference exact at x = 30.
    assert second == pytest.approx(sigmoid / (1 + np.exp(x)), rel=1e-12)
    assert functions.softplus_second_derivative(scalar(x)).numpy() == pytest.approx(
        second, rel=1e-12
    )


def eece_values() -> tuple[float, list[float]]:
    point = [functions.EECE_POINT[name] for name in ("x1", "w1", "x2", "w2")]
    return float(functions.eece_graph(*map(scalar, point))), tape_gradients(
        functions.eece_graph, point
    )


def test_eece_forward_and_gradients():
    value, (x1, w1, x2, w2) = eece_values()
    assert round(value, 4) == 0.3296
    local = value * (1 - value)
    assert round(local, 4) == 0.2210
    assert x1 == pytest.approx(-1.5 * local, rel=1e-12)
    assert w1 == pytest.approx(0.7 * local, rel=1e-12)
    assert x2 == pytest.approx(local, rel=1e-12)
    assert w2 == 0.0


def test_eece_report_errata_are_verified():
    _, (x1, _, x2, _) = eece_values()
    recomputed = {
        "x1·w1 in the forward pass": functions.EECE_POINT["x1"] * functions.EECE_POINT["w1"],
        "∂y/∂x1": float(x1),
        "∂y/∂x2": float(x2),
    }
    assert {erratum.quantity for erratum in functions.REPORT_ERRATA} == set(recomputed)
    for erratum in functions.REPORT_ERRATA:
        assert erratum.correct_value == pytest.approx(recomputed[erratum.quantity], abs=5e-5)
        assert abs(erratum.report_value - recomputed[erratum.quantity]) > 1e-2


def test_vu_report_erratum_sign_of_divide_backward():
    (_, gradient_y) = tape_gradients(functions.divide, [1.0, 2.0])
    (erratum,) = functions.VU_REPORT_ERRATA
    assert np.sign(gradient_y) == erratum.correct_value == -1.0


@pytest.mark.parametrize("seed", [1, 2])
def test_tensor_backward_rules_on_other_random_tensors(seed):
    rows = tensor_rule_checks(seed)
    assert {row.function for row in rows} >= {"X/Y", "tanh(X)", "X·W", "custom_relu(X)"}
    assert all(row.passed(TOLERANCE) for row in rows)


def test_custom_relu_matches_tf_relu_including_zero():
    x = tf.constant([[-2.0, -1e-12, 0.0, 1e-12, 3.0]], tf.float64)
    upstream = np.array([[0.5, -1.0, 2.0, 1.5, -0.25]])
    np.testing.assert_array_equal(functions.custom_relu(x).numpy(), tf.nn.relu(x).numpy())
    (custom,) = tape_gradients(functions.custom_relu, [x.numpy()], upstream)
    (reference,) = tape_gradients(tf.nn.relu, [x.numpy()], upstream)
    np.testing.assert_array_equal(custom, reference)
    np.testing.assert_array_equal(custom, [[0.0, 0.0, 0.0, 1.5, -0.25]])


def test_relative_error_handles_zeros():
    assert relative_error(np.zeros(3), np.zeros(3)) == 0.0
    assert relative_error(np.array([1.0, 2.0]), np.array([1.0, 2.000002])) == pytest.approx(
        1e-6, rel=1e-5
    )
