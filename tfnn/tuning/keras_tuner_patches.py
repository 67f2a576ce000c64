"""keras-tuner 1.4.8 behaviours changed for every search in this process (imported for
its effect by ``tfnn.tuning.tuner``)."""

from __future__ import annotations

import json
import logging
import os

from keras_tuner.src import config as keras_tuner_config
from keras_tuner.src import utils as keras_tuner_utils
from keras_tuner.src.engine import conditions as keras_tuner_conditions


class _DropRetracingWarnings(logging.Filter):
    """Every trial builds a new model and so traces new functions: expected, not a problem."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "triggered tf.function retracing" not in record.getMessage()


def _save_json_atomically(path, content) -> str:
    """keras-tuner's ``utils.save_json``, but written to a temporary file and renamed."""
    text = json.dumps(content)
    temporary = f"{path}.tmp-{os.getpid()}"
    with open(temporary, "w") as file:
        file.write(text)
    os.replace(temporary, path)
    return text


def adjust_keras_tuner() -> None:
    """keras-tuner 1.4.8 behaviours changed for every search in this process.

    - It rewrites ``oracle.json`` and ``trial.json`` in place, so a kill -9
      during a write leaves an empty file and the search cannot be reloaded:
      every state file goes through ``utils.save_json``, made atomic here.
    - ``Parent.to_proto()`` prints each conditional scope's first value ("True")
      on every gRPC call of a distributed search: a leftover debug print.
    - It prints the traceback of every failed trial; trial.json keeps it and the
      per-trial line says what failed, so a NaN trial costs one line, not thirty.
    """
    keras_tuner_utils.save_json = _save_json_atomically
    keras_tuner_conditions.print = lambda *args, **kwargs: None
    keras_tuner_config.DEBUG = False
    logging.getLogger("tensorflow").addFilter(_DropRetracingWarnings())


adjust_keras_tuner()
