"""Matplotlib figure makers for the TensorBoard image writers.

Figures are built with ``matplotlib.figure.Figure`` directly and rendered by
the Agg canvas, never through ``pyplot``: pyplot keeps every figure alive in a
global registry, which leaks memory in long runs and is not thread-safe.
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable, Sequence

import matplotlib
import matplotlib.artist
import numpy as np
import PIL.Image
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from tfnn.errors import DataError

# Mesh resolution per axis for decision boundaries: 200 x 200 = 40k points is
# smooth enough on screen and one cheap batched predict call.
GRID_SIZE = 200


def _new_figure(width: float, height: float) -> Figure:
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


def as_labels(y: np.ndarray | Sequence) -> np.ndarray:
    """Returns integer class ids from ids, ``(n, 1)`` columns or one-hot rows."""
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] > 1:
        return np.argmax(y, axis=1).astype(np.int64)
    return y.reshape(-1).astype(np.int64)


def _name(label: int, class_names: Sequence[str] | None) -> str:
    if class_names is not None and 0 <= label < len(class_names):
        return str(class_names[label])
    return str(label)


def confusion_matrix_figure(
    cm: np.ndarray, class_names: Sequence[str] | None = None, vmax: float | None = None
) -> Figure:
    """Draws a confusion matrix with the count written in every cell.

    Args:
        cm: ``(C, C)`` counts, rows are true classes and columns predictions.
        class_names: Tick labels; defaults to ``0 .. C-1``.
        vmax: The count drawn darkest (default: the largest in ``cm``).
    """
    cm = np.asarray(cm)
    if cm.ndim != 2 or cm.shape[0] != cm.shape[1]:
        raise DataError(f"confusion matrix must be square, got shape {cm.shape}")
    n = cm.shape[0]
    vmax = float(cm.max(initial=0)) if vmax is None else float(vmax)
    names = [_name(i, class_names) for i in range(n)]
    size = max(4.0, 0.6 * n + 2.0)
    fig = _new_figure(size, size)
    ax = fig.add_subplot()
    image = ax.imshow(cm, interpolation="nearest", cmap="Blues", vmin=0.0, vmax=vmax)
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
    ax.set(
        xticks=np.arange(n),
        yticks=np.arange(n),
        xticklabels=names,
        yticklabels=names,
        xlabel="Predicted label",
        ylabel="True label",
        title="Confusion matrix",
    )
    ax.tick_params(axis="x", labelrotation=45)
    fontsize = max(5, 12 - n // 4)
    for i in range(n):
        for j in range(n):
            ax.text(
                j,
                i,
                f"{cm[i, j]:g}",
                ha="center",
                va="center",
                fontsize=fontsize,
                color=_count_colour(cm[i, j], vmax),
                # Inside the axes, so the layout need not measure them (C² texts, each
                # measured on every layout pass, were most of the drawing time).
                in_layout=False,
            )
    return fig


def _count_colour(count: float, vmax: float) -> str:
    # White text on dark cells, black on light ones, so every count stays legible.
    return "white" if count > vmax / 2.0 else "black"


def _displayable(images: np.ndarray) -> np.ndarray:
    images = np.asarray(images)
    if images.ndim == 4 and images.shape[-1] == 1:
        images = images[..., 0]
    if images.ndim not in (3, 4) or (images.ndim == 4 and images.shape[-1] != 3):
        raise DataError(f"images must be (n, H, W[, 1 or 3]), got shape {images.shape}")
    return images


class _Grid:
    """Where ``cells`` tiles of ``height`` x ``width`` go in one mosaic image, each with
    room above it for its title."""

    def __init__(self, cells: int, height: int, width: int):
        self.cols = math.ceil(math.sqrt(cells))
        self.rows = math.ceil(cells / self.cols)
        self.height, self.width = height, width
        self.label = max(4, height // 3)
        self.cell_height = self.label + height + max(1, width // 8)
        self.cell_width = width + max(1, width // 8)

    def corner(self, k: int) -> tuple[int, int]:
        """(top, left) pixel of tile ``k``."""
        row, col = divmod(k, self.cols)
        return row * self.cell_height + self.label, col * self.cell_width

    def mosaic(self, images: np.ndarray) -> np.ndarray:
        """The tiles in one image, each scaled to [0, 1]; white (NaN for grey, which the
        colour map shows white) between and after them."""
        pixels = np.full(
            (self.rows * self.cell_height, self.cols * self.cell_width, *images.shape[3:]), np.nan
        )
        for k, image in enumerate(images):
            top, left = self.corner(k)
            pixels[top : top + self.height, left : left + self.width] = _scaled(image)
        return np.nan_to_num(pixels, nan=1.0) if pixels.ndim == 3 else pixels


def _grid_figure(images: np.ndarray, titles: Sequence[str], cells: int) -> tuple[Figure, _Grid]:
    # One image of all the tiles in one axes: 25 axes of their own cost ~1 s to lay out
    # and draw, every time the figure is written during training.
    grid = _Grid(cells, *images.shape[1:3])
    fig = _new_figure(1.6 * grid.cols, 1.8 * grid.rows)
    ax = fig.add_subplot()
    for k in range(cells):
        top, left = grid.corner(k)
        ax.text(
            left + grid.width / 2,
            top - 0.5,
            titles[k] if k < len(titles) else "",
            ha="center",
            va="bottom",
            fontsize=8,
            color="red",
            in_layout=False,  # inside the axes: nothing for the layout to make room for
        )
    if images.ndim == 4:
        ax.imshow(grid.mosaic(images), interpolation="nearest")
    else:
        gray = matplotlib.colormaps["gray"].with_extremes(bad="white")
        ax.imshow(grid.mosaic(images), cmap=gray, vmin=0.0, vmax=1.0, interpolation="nearest")
    ax.axis("off")
    fig.suptitle("true -> predicted", fontsize=10)
    return fig, grid


def _tile_titles(
    true: np.ndarray, predicted: np.ndarray, class_names: Sequence[str] | None
) -> list[str]:
    return [
        f"{_name(t, class_names)} -> {_name(p, class_names)}"
        for t, p in zip(true, predicted, strict=True)
    ]


def misclassified_grid_figure(
    images: np.ndarray,
    true: np.ndarray | Sequence,
    predicted: np.ndarray | Sequence,
    max_images: int = 25,
    class_names: Sequence[str] | None = None,
) -> Figure:
    """Draws up to ``max_images`` images in a square grid, titled ``true -> predicted``.

    Args:
        images: ``(n, H, W)`` grey, ``(n, H, W, 1)`` or ``(n, H, W, 3)`` images,
            usually only the misclassified ones.
        true: True labels of ``images``.
        predicted: Predicted labels of ``images``.
        max_images: Cap on the number drawn.
        class_names: Names used in the titles instead of class ids.
    """
    images = _displayable(np.asarray(images)[:max_images])
    true = as_labels(true)[:max_images]
    predicted = as_labels(predicted)[:max_images]
    if len(images) == 0:
        fig = _new_figure(3, 3)
        ax = fig.add_subplot()
        ax.text(0.5, 0.5, "no misclassified images", ha="center", va="center")
        ax.axis("off")
        return fig
    fig, _ = _grid_figure(images, _tile_titles(true, predicted, class_names), len(images))
    return fig


class _Redrawn:
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
        canvas = self.figure.canvas
        canvas.restore_region(self._background)
        for artist in self.changing:
            self.figure.draw_artist(artist)
        return np.array(canvas.buffer_rgba())[..., :3]


class ConfusionMatrixPlot:
    """A confusion matrix drawn again and again with new counts (during training).

    Colours run from 0 to ``vmax`` in every drawing, so a shade means the same count
    in every epoch. A redraw takes ~70 ms where a new figure took ~300 ms (10 classes).
    """

    def __init__(self, n_classes: int, class_names: Sequence[str] | None, vmax: float):
        figure = confusion_matrix_figure(np.zeros((n_classes, n_classes)), class_names, vmax)
        ax = figure.axes[0]
        self.n_classes, self.vmax = n_classes, vmax
        self._image, self._counts = ax.images[0], list(ax.texts)
        # The spines too: drawn before the image, they would end up under it.
        self._drawn = _Redrawn(figure, [self._image, *ax.spines.values(), *self._counts])

    def render(self, cm: np.ndarray) -> np.ndarray:
        """The figure for counts ``cm`` as an ``(H, W, 3)`` uint8 image."""
        cm = np.asarray(cm)
        self._image.set_data(cm)
        for text, count in zip(self._counts, cm.ravel(), strict=True):
            text.set_text(f"{count:g}")
            text.set_color(_count_colour(count, self.vmax))
        return self._drawn.render()


class MisclassifiedPlot:
    """The misclassified grid drawn again and again, in a fixed grid of ``max_images``."""

    def __init__(
        self,
        image_shape: tuple[int, ...],
        max_images: int = 25,
        class_names: Sequence[str] | None = None,
    ):
        self.max_images, self.class_names = max_images, class_names
        blank = _displayable(np.zeros((max_images, *image_shape)))
        figure, self._grid = _grid_figure(blank, [], max_images)
        ax = figure.axes[0]
        self._image, self._titles = ax.images[0], list(ax.texts)
        self._none = ax.text(
            0.5, 0.5, "no misclassified images", transform=ax.transAxes, ha="center"
        )
        self._drawn = _Redrawn(figure, [self._image, *self._titles, self._none])

    def render(
        self, images: np.ndarray, true: np.ndarray | Sequence, predicted: np.ndarray | Sequence
    ) -> np.ndarray:
        """The grid of the first ``max_images`` of ``images`` as an ``(H, W, 3)`` image."""
        images = _displayable(np.asarray(images)[: self.max_images])
        titles = _tile_titles(as_labels(true), as_labels(predicted), self.class_names)
        self._image.set_data(self._grid.mosaic(images))
        for k, text in enumerate(self._titles):
            text.set_text(titles[k] if k < len(images) else "")
        self._none.set_visible(len(images) == 0)
        return self._drawn.render()


def rgb_to_png(rgb: np.ndarray) -> bytes:
    """Encodes an ``(H, W, 3)`` uint8 image as PNG."""
    buffer = io.BytesIO()
    # Level 1: a third faster than the default 6 on figures, for ~5% more bytes.
    PIL.Image.fromarray(rgb).save(buffer, format="png", compress_level=1)
    return buffer.getvalue()


def _scaled(image: np.ndarray) -> np.ndarray:
    """``image`` scaled to [0, 1] on its own range, as imshow would show it alone."""
    image = image.astype(np.float32)
    low, high = float(image.min()), float(image.max())
    return (image - low) / (high - low) if high > low else np.zeros_like(image)


def decision_boundary_figure(
    predict_fn: Callable[[np.ndarray], np.ndarray],
    x: np.ndarray,
    y: np.ndarray | Sequence,
    title: str = "Decision boundary",
    grid_size: int = GRID_SIZE,
) -> Figure:
    """Draws a classifier's regions over 2-D inputs, with the data points on top.

    Args:
        predict_fn: Maps a ``(m, 2)`` float32 array to class probabilities
            ``(m, C)``, a probability of class 1 ``(m,)``/``(m, 1)``, or labels.
            It receives one batch of ``grid_size ** 2`` points.
        x: ``(n, 2)`` inputs.
        y: Labels of ``x`` (ids or one-hot).
        title: Axes title.
        grid_size: Mesh points per axis.
    """
    x = np.asarray(x, dtype=np.float32)
    if x.ndim != 2 or x.shape[1] != 2:
        raise DataError(f"decision boundaries need 2-D inputs, got shape {x.shape}")
    labels = as_labels(y)
    # A 10% margin so points on the edge are not cut in half.
    low, high = x.min(axis=0), x.max(axis=0)
    margin = np.maximum((high - low) * 0.1, 1e-3)
    xs = np.linspace(low[0] - margin[0], high[0] + margin[0], grid_size)
    ys = np.linspace(low[1] - margin[1], high[1] + margin[1], grid_size)
    xx, yy = np.meshgrid(xs, ys)
    grid = np.stack([xx.ravel(), yy.ravel()], axis=1).astype(np.float32)
    out = np.asarray(predict_fn(grid))
    if out.shape[0] != grid.shape[0]:
        raise DataError(f"predict_fn returned {out.shape[0]} rows for {grid.shape[0]} points")

    fig = _new_figure(6, 5)
    ax = fig.add_subplot()
    if out.ndim == 2 and out.shape[1] > 1:
        classes = np.argmax(out, axis=1).reshape(xx.shape)
        n_classes = max(out.shape[1], int(labels.max()) + 1)
        levels = np.arange(n_classes + 1) - 0.5
        ax.contourf(xx, yy, classes, levels=levels, cmap="tab10", vmin=0, vmax=9, alpha=0.3)
        ax.contour(xx, yy, classes, levels=levels, colors="k", linewidths=0.8)
    elif np.issubdtype(out.dtype, np.integer) and out.max(initial=0) > 1:
        classes = out.reshape(xx.shape)
        levels = np.arange(max(int(classes.max()), int(labels.max())) + 2) - 0.5
        ax.contourf(xx, yy, classes, levels=levels, cmap="tab10", vmin=0, vmax=9, alpha=0.3)
        ax.contour(xx, yy, classes, levels=levels, colors="k", linewidths=0.8)
    else:
        # One output is P(class 1) (or a 0/1 label): shade it and mark the 0.5 line.
        prob = out.reshape(xx.shape).astype(np.float32)
        shade = ax.contourf(xx, yy, prob, levels=np.linspace(0, 1, 11), cmap="RdBu_r", alpha=0.5)
        fig.colorbar(shade, ax=ax, label="P(class 1)")
        ax.contour(xx, yy, prob, levels=[0.5], colors="k", linewidths=1.2)
    ax.scatter(
        x[:, 0],
        x[:, 1],
        c=labels,
        cmap="tab10",
        vmin=0,
        vmax=9,
        s=12,
        edgecolors="k",
        linewidths=0.3,
    )
    ax.set(title=title, xlabel="x1", ylabel="x2")
    return fig


def scatter_figure(
    points2d: np.ndarray,
    labels: np.ndarray | Sequence,
    title: str = "t-SNE",
    class_names: Sequence[str] | None = None,
) -> Figure:
    """Draws 2-D points coloured by class with a legend (for t-SNE/PCA maps).

    Args:
        points2d: ``(n, 2)`` coordinates.
        labels: Class of every point (ids or one-hot).
        title: Axes title.
        class_names: Legend entries instead of class ids.
    """
    points2d = np.asarray(points2d)
    labels = as_labels(labels)
    if points2d.ndim != 2 or points2d.shape[1] != 2 or len(points2d) != len(labels):
        raise DataError(f"need (n, 2) points and n labels, got {points2d.shape} and {labels.shape}")
    classes = np.unique(labels)
    # tab10 repeats after 10 classes; tab20 keeps up to 20 classes distinct.
    cmap = "tab10" if len(classes) <= 10 else "tab20"
    fig = _new_figure(7, 6)
    ax = fig.add_subplot()
    palette = matplotlib.colormaps[cmap]
    for index, label in enumerate(classes):
        mask = labels == label
        ax.scatter(
            points2d[mask, 0],
            points2d[mask, 1],
            s=8,
            color=palette(index % palette.N),
            label=_name(int(label), class_names),
        )
    # Outside the axes: a t-SNE map has no empty corner to put it in.
    ax.legend(
        loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, markerscale=2, title="class"
    )
    ax.set(title=title, xticks=[], yticks=[])
    return fig
