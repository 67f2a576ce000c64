"""tfnn's TensorBoard view, as Keras callbacks that work on any compiled Keras 3 model.

``callbacks(log_dir, ...)`` returns them all; each is also usable on its own:

- ``ScalarLogger``: step and epoch curves, train and validation overlaid, learning rate;
- ``GraphLogger``: the op graph of the training step (Keras 3 writes none);
- ``LayerStatistics``: weights, biases, gradients, net inputs and activations
  (histograms, min/max/mean/std, norms);
- ``HParams``: the run's settings as an HParams session, and as text with the model;
- ``ClassifierFigures``: confusion matrix and misclassified samples;
- ``Projector``: a layer's activations in the Projector, optionally a t-SNE plot.

The modules hold one writer each (``writers``, ``scalars``, ``graph``, ``stats``,
``histograms``, ``hparams``, ``images``, ``projector``) and never import training code.
"""

from tfnn.quiet import import_tensorflow_quietly

import_tensorflow_quietly()

from tfnn.tensorboard.factory import callbacks  # noqa: E402
from tfnn.tensorboard.graph import GraphLogger  # noqa: E402
from tfnn.tensorboard.hparams import HParams  # noqa: E402
from tfnn.tensorboard.images import ClassifierFigures  # noqa: E402
from tfnn.tensorboard.projector import Projector  # noqa: E402
from tfnn.tensorboard.scalars import ScalarLogger  # noqa: E402
from tfnn.tensorboard.stats import LayerStatistics  # noqa: E402
from tfnn.tensorboard.writers import RunWriters  # noqa: E402

__all__ = [
    "ClassifierFigures",
    "GraphLogger",
    "HParams",
    "LayerStatistics",
    "Projector",
    "RunWriters",
    "ScalarLogger",
    "callbacks",
]
