"""Hyperparameter search with keras-tuner: `tfnn tune EXPERIMENT`.

- ``project``: the search's directory, checked, created or continued (TensorFlow-free);
- ``splits``: the held-out validation part of the training data;
- ``hypermodels``: sampled values -> the training command's config and model, trained
  through tfnn's one fit path;
- ``keras_tuner_patches``, ``tuner``: keras-tuner's RandomSearch with tfnn's trial lines,
  crash-safe files and logs;
- ``search``: the search driver, then the best configuration retrained and tested once;
- ``rerank``: cross-validation of the top trials; ``report``: ``best.json``/``best.md``;
- ``pack_network``, ``packs``, ``packed_trials``, ``packed_cv``: trials (and folds)
  trained K at a time in one compiled program; ``lanes``: packs side by side on threads;
- ``distributed``, ``__main__``: keras-tuner's chief/worker mode on this machine.

Most modules import TensorFlow (not ``project``, ``splits``, ``distributed``), so
import them when needed.
"""
