"""Matplotlib figures for the TensorBoard image writers, the studies and the reports.

One module per kind of figure: ``canvas`` (off-screen figures, PNG bytes, cheap
redraws), ``labels`` (class ids and names), ``confusion`` (the confusion matrix),
``image_grid`` (misclassified images in a grid), ``decision_map`` (a classifier's
regions over 2-D inputs) and ``scatter`` (2-D maps coloured by class). Every figure
is drawn on the Agg canvas, never through ``pyplot``.
"""

from tfnn.plots.canvas import figure_to_png, rgb_to_png
from tfnn.plots.confusion import ConfusionMatrixPlot, confusion_matrix_figure
from tfnn.plots.decision_map import GRID_SIZE, decision_boundary_figure
from tfnn.plots.image_grid import MisclassifiedPlot, misclassified_grid_figure
from tfnn.plots.labels import as_labels
from tfnn.plots.scatter import scatter_figure

__all__ = [
    "GRID_SIZE",
    "ConfusionMatrixPlot",
    "MisclassifiedPlot",
    "as_labels",
    "confusion_matrix_figure",
    "decision_boundary_figure",
    "figure_to_png",
    "misclassified_grid_figure",
    "rgb_to_png",
    "scatter_figure",
]
