"""Figures drawn off-screen: a new figure on the Agg canvas, PNG bytes out of it, and
a figure redrawn cheaply when only some of its artists change.

Figures are built with ``matplotlib.figure.Figure`` directly and rendered by
the Agg canvas, never through ``pyplot``: pyplot keeps every figure alive in a
global registry, which leaks memory in long runs and is not thread-safe.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

import matplotlib.artist
import numpy as np
import PIL.Image
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure


def new_figure(width: float, height: float) -> Figure:
    """A ``width`` x ``height`` inch figure on its own Agg canvas, constrained layout."""
    # Constrained layout keeps titles, colorbars and legends from overlapping.
    fig = Figure(figsize=(width, height), dpi=100, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def figure_to_png(fig: Figure) -> bytes:
    """Renders ``fig`` to PNG bytes and releases it.

    The figure must not be used afterwards.
    """
    buffer = io.BytesIO()
    # The constrained layout already fits the figure: "tight" bbox would lay it out again.
    fig.savefig(buffer, format="png")
    # No fig.clear(): it resets every axes (~10 ms each) only to free what the garbage
    # collector frees anyway once the caller drops the figure.
    return buffer.getvalue()


def rgb_to_png(rgb: np.ndarray) -> bytes:
    """Encodes an ``(H, W, 3)`` uint8 image as PNG."""
    buffer = io.BytesIO()
    # Level 1: a third faster than the default 6 on figures, for ~5% more bytes.
    PIL.Image.fromarray(rgb).save(buffer, format="png", compress_level=1)
    return buffer.getvalue()


class Redrawn:
    """A figure laid out and drawn once; each render redraws only the artists that
    change over the saved background (layout, ticks and labels are most of a draw)."""

    def __init__(self, figure: Figure, changing: Sequence[matplotlib.artist.Artist]):
        self.figure = figure
        self.changing = list(changing)
        for artist in self.changing:
            artist.set_animated(True)  # left out of the full draw below
        figure.canvas.draw()
        self._background = figure.canvas.copy_from_bbox(figure.bbox)

    def render(self) -> np.ndarray:
        """The figure with the changing artists as they are now, ``(H, W, 3)`` uint8."""
        canvas = self.figure.canvas
        canvas.restore_region(self._background)
        for artist in self.changing:
            self.figure.draw_artist(artist)
        return np.array(canvas.buffer_rgba())[..., :3]
