"""Image grids: misclassified images in one mosaic, titled ``true -> predicted``."""

from __future__ import annotations

import math
from collections.abc import Sequence

import matplotlib
import numpy as np
from matplotlib.figure import Figure

from tfnn.errors import DataError
from tfnn.plots.canvas import Redrawn, new_figure
from tfnn.plots.labels import as_labels, class_name


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
    # Sized for TensorBoard's image card (~350 px wide), so the captions stay legible.
    fig = new_figure(0.8 * grid.cols, 0.95 * grid.rows)
    ax = fig.add_subplot()
    for k in range(cells):
        top, left = grid.corner(k)
        ax.text(
            left + grid.width / 2,
            top - 0.5,
            titles[k] if k < len(titles) else "",
            ha="center",
            va="bottom",
            fontsize=7,
            color="red",
            in_layout=False,  # inside the axes: nothing for the layout to make room for
        )
    if images.ndim == 4:
        ax.imshow(grid.mosaic(images), interpolation="nearest")
    else:
        gray = matplotlib.colormaps["gray"].with_extremes(bad="white")
        ax.imshow(grid.mosaic(images), cmap=gray, vmin=0.0, vmax=1.0, interpolation="nearest")
    ax.axis("off")
    fig.suptitle("true -> predicted", fontsize=8)
    return fig, grid


def _tile_titles(
    true: np.ndarray, predicted: np.ndarray, class_names: Sequence[str] | None
) -> list[str]:
    return [
        f"{class_name(t, class_names)} -> {class_name(p, class_names)}"
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
        fig = new_figure(3, 3)
        ax = fig.add_subplot()
        ax.text(0.5, 0.5, "no misclassified images", ha="center", va="center")
        ax.axis("off")
        return fig
    fig, _ = _grid_figure(images, _tile_titles(true, predicted, class_names), len(images))
    return fig


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
        self._drawn = Redrawn(figure, [self._image, *self._titles, self._none])

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


def _scaled(image: np.ndarray) -> np.ndarray:
    """``image`` scaled to [0, 1] on its own range, as imshow would show it alone."""
    image = image.astype(np.float32)
    low, high = float(image.min()), float(image.max())
    return (image - low) / (high - low) if high > low else np.zeros_like(image)
