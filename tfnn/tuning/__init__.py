"""Hyperparameter search with keras-tuner: `tfnn tune EXPERIMENT`.

``hypermodels`` turns sampled values into the training command's config and
model, ``search`` runs keras-tuner's RandomSearch and reports the best, and
``distributed`` runs keras-tuner's chief/worker mode on this machine; ``splits``
holds out the validation part of the training data. The modules import TensorFlow
(except ``distributed`` and ``splits``), so import them when needed.
"""
