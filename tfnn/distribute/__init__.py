"""Processes beyond one: the cluster settings and the launcher of worker processes.

- ``cluster``: reads and writes ``TF_CONFIG`` (which processes, which one is the chief);
  TensorFlow-free, so bad settings fail before TensorFlow loads.
- ``launch``: starts worker processes on 127.0.0.1 and streams their output
  (also used by ``tfnn tune --workers``); TensorFlow-free.
- ``__main__``: one worker process (``python -m tfnn.distribute train ...``).

Where a run is placed (``tf.distribute`` strategy) and the multi-worker training loop
belong to training: :mod:`tfnn.training.placement`, :mod:`tfnn.training.multiworker`.
"""
