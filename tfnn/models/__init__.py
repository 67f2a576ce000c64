"""Model builders: plain functions that return (uncompiled) Keras models.

Every builder names its layers so statistics group by layer in TensorBoard, and
keeps each activation in its own ``<layer>_act`` layer so the net inputs
(pre-activations) are observable without recomputation.
"""

from tfnn.models.initializers import make_initializer
from tfnn.models.mlp import build_mlp

__all__ = ["build_mlp", "make_initializer"]
