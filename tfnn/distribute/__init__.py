"""Training beyond one process: tf.distribute strategies, multi-worker runs, the launcher.

- ``cluster``: reads and writes ``TF_CONFIG`` (which processes, which one is the chief);
  TensorFlow-free, so bad settings fail before TensorFlow loads.
- ``strategy``: the ``tf.distribute`` strategy a config asks for, and its precision policy.
- ``loop``: the multi-worker training loop (Keras 3's ``fit`` fails under
  ``MultiWorkerMirroredStrategy``) that drives the runner's callbacks on the chief.
- ``launch``: starts worker processes on 127.0.0.1 and streams their output
  (also used by ``tfnn tune --workers``); TensorFlow-free.
"""
