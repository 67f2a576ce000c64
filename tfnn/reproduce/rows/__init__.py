"""Each part's table rows and figures, read back from the files its runs wrote.

A builder (one module per course: ``cs587``, ``vu``, ``softplus``, ``eece8740``,
``comp576``) gets a :class:`Context` (the part's settings and sources, where the report
goes) and returns a :class:`PartReport` (``context`` holds both, and what builders
share). Every measured number comes from a ``results.json`` (``best.json`` and
``trial.json`` for the tuner); a difference from the report beyond noise gets a
one-line reason only where a run here backs it, else "not explained".
"""

from __future__ import annotations

from collections.abc import Callable

from tfnn.reproduce.rows.comp576 import MOONS_TOLERANCE, comp576_cnn, comp576_moons
from tfnn.reproduce.rows.context import (
    QUICK_NOTE,
    STAND_IN_NOTE,
    Context,
    PartReport,
    Row,
    seed_note,
)
from tfnn.reproduce.rows.cs587 import CS587_BEST, CS587_BEST_CONFIG, cs587_digits, cs587_search
from tfnn.reproduce.rows.eece8740 import eece8740
from tfnn.reproduce.rows.softplus import SOFTPLUS_REPORT, softplus
from tfnn.reproduce.rows.vu import vu_mlp

BUILDERS: dict[str, Callable[[Context], PartReport]] = {
    "cs587-digits": cs587_digits,
    "cs587-search": cs587_search,
    "vu-mlp": vu_mlp,
    "softplus": softplus,
    "eece8740": eece8740,
    "comp576-moons": comp576_moons,
    "comp576-cnn": comp576_cnn,
}

__all__ = [
    "BUILDERS",
    "CS587_BEST",
    "CS587_BEST_CONFIG",
    "MOONS_TOLERANCE",
    "QUICK_NOTE",
    "SOFTPLUS_REPORT",
    "STAND_IN_NOTE",
    "Context",
    "PartReport",
    "Row",
    "comp576_cnn",
    "comp576_moons",
    "cs587_digits",
    "cs587_search",
    "eece8740",
    "seed_note",
    "softplus",
    "vu_mlp",
]
