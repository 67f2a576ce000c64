"""Hyperparameter search with keras-tuner: `tfnn tune EXPERIMENT`.

``hypermodels`` turns sampled values into the training command's config and
model, ``search`` runs keras-tuner's RandomSearch and reports the best, and
``distributed`` runs keras-tuner's chief/worker mode on this machine. The
modules import TensorFlow (except ``distributed``), so import them when needed.
"""
