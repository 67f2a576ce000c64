"""`python -m tfnn.tuning`: one process of `tfnn tune --workers N` (started by it, not by hand).

Its role comes from ``KERASTUNER_TUNER_ID`` (see ``tfnn.tuning.distributed``), or it
cross-validates a share of the best trials (``--cross-validate``).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from tfnn.configs.tune import TuneConfig
from tfnn.distribute.launch import exit_with_parent
from tfnn.errors import TfnnError
from tfnn.quiet import import_tensorflow_quietly
from tfnn.tuning import compile_cache


def main(argv: Sequence[str] | None = None) -> int:
    """One chief or worker process (its role comes from ``KERASTUNER_TUNER_ID``), or
    one share of the cross-validation after the search (``--cross-validate``)."""
    parser = argparse.ArgumentParser(
        prog="python -m tfnn.tuning",
        description="One process of `tfnn tune --workers N` (started by it, not by hand).",
    )
    # A chief only answers gRPC calls: one thread is plenty.
    parser.add_argument("--threads", type=int, required=True, help="TF intra-op threads")
    parser.add_argument("--config-json", required=True, help="the TuneConfig as JSON")
    parser.add_argument("--cross-validate", default="", help="comma-separated trial ids")
    args = parser.parse_args(argv)
    config = TuneConfig.from_dict(json.loads(args.config_json))
    exit_with_parent()

    compile_cache.enable()  # before TensorFlow's runtime starts: it reads the flag once
    import_tensorflow_quietly()
    import tensorflow as tf

    # Before any op runs: the thread pools are fixed when TensorFlow's runtime starts.
    tf.config.threading.set_intra_op_parallelism_threads(args.threads)
    tf.config.threading.set_inter_op_parallelism_threads(1)

    from tfnn.tuning.search import cross_validate_trials, run_role

    try:
        if args.cross_validate:
            cross_validate_trials(config, args.cross_validate.split(","))
        else:
            run_role(config)
    except TfnnError as error:
        print(f"tfnn: error: {error.with_flags()}", file=sys.stderr)
        return error.exit_code
    return 0


if __name__ == "__main__":
    sys.exit(main())
