"""Hand-derived gradients checked against ``tf.GradientTape`` and finite differences.

``functions`` holds the assignments' functions and their hand derivations, ``checks``
the comparison machinery, ``graphs`` the TensorBoard graphs and the printed table,
``circles`` the ring-shaped data set, ``softplus_net`` the 2-12-5 network trained by
hand-written backpropagation and ``softplus_run`` one logged run of it (TensorBoard,
PNGs, ``results.json``).
"""

from tfnn.autodiff.checks import GradientCheck, format_table
from tfnn.autodiff.functions import REPORT_ERRATA, VU_REPORT_ERRATA, Erratum
from tfnn.autodiff.graphs import gradient_checks, run_graphs, write_graphs
from tfnn.autodiff.softplus_net import SoftplusNetConfig, SoftplusNetResult, train

__all__ = [
    "REPORT_ERRATA",
    "VU_REPORT_ERRATA",
    "Erratum",
    "GradientCheck",
    "SoftplusNetConfig",
    "SoftplusNetResult",
    "format_table",
    "gradient_checks",
    "run_graphs",
    "train",
    "write_graphs",
]
