"""One benchmark case in this process: tfnn's runner or plain Keras on the same model.

Run as ``python -m tfnn.bench.cases NAME VARIANT EPOCHS SAMPLES`` by the harness, which
prints one JSON line: per-epoch wall times, samples per epoch, test accuracy.
"""

from __future__ import annotations

import dataclasses
import json
import sys
import tempfile

from tfnn.bench.callbacks_case import measure_callbacks
from tfnn.bench.timing import EpochTimes
from tfnn.configs.common import TrainConfig
from tfnn.configs.digits import DigitsConfig
from tfnn.configs.mnist import CnnConfig, MnistDnnConfig
from tfnn.experiments.registry import load_experiment
from tfnn.experiments.spec import carve_validation, run_experiment
from tfnn.training.compile import compile_model, make_loss, resolve_steps_per_execution
from tfnn.training.optimizers import make_optimizer
from tfnn.training.plan import default_images_every, plan_steps
from tfnn.training.seeding import seed_everything
from tfnn.training.streams import make_training_stream

# name -> (experiment, config); the configs are each experiment's defaults, except
# the dense net, which is the EECE 8740 784-150-120-10 at batch 64.
CASES = {
    "digits": ("digits", DigitsConfig()),
    "mnist-dense": ("mnist-dnn", MnistDnnConfig(arch=(150, 120), batch_size=64)),
    "cnn": ("cnn", CnnConfig()),
}
# tfnn-no-images: all of tfnn's logging but the confusion-matrix and misclassified-image
# figures, to measure what those cost beside the rest.
VARIANTS = ("tfnn", "tfnn-no-images", "keras-defaults", "keras-same-settings")


def case_config(name: str, epochs: int, samples: int, logdir: str) -> tuple[str, TrainConfig]:
    """(experiment, config) of case ``name`` trained for ``epochs`` epochs on ``samples``
    training images (0: all), logging into ``logdir``."""
    experiment_name, config = CASES[name]
    # Figures as often as in a full-length run of the experiment (about ten times), not
    # every epoch as a few-epoch run would draw them.
    overrides = {
        "epochs": epochs,
        "embedding_samples": 0,
        "images_every": default_images_every(config.epochs),
    }
    if samples and hasattr(config, "train_samples"):
        overrides["train_samples"] = samples
        overrides["validation_samples"] = min(config.validation_samples, samples // 10)
    return experiment_name, dataclasses.replace(config, logdir=logdir, **overrides)


def measure(name: str, variant: str, epochs: int, samples: int) -> dict:
    """Trains case ``name`` for ``epochs`` epochs with ``variant``; returns timings."""
    if name == "callbacks":
        return measure_callbacks(variant, epochs, samples)
    with tempfile.TemporaryDirectory() as logdir:
        experiment_name, config = case_config(name, epochs, samples, logdir)
        experiment = load_experiment(experiment_name)
        if variant in ("tfnn", "tfnn-no-images"):
            config = dataclasses.replace(config, images=variant == "tfnn")
            results = run_experiment(experiment, config, print_fn=lambda *a, **k: None)
            return {
                # From one epoch's end to the next: its figures and statistics count.
                "epoch_times": results["epoch_times_s"],
                "samples_per_epoch": results["steps_per_epoch"] * config.batch_size,
                "test_accuracy": results["metrics"]["test_accuracy"],
            }
        dataset = experiment.load_data(config)
        dataset, _ = carve_validation(
            dataset, getattr(config, "validation_samples", 0), config.seed
        )
        seed_everything(config.seed)
        model = experiment.build_model(config, dataset)
        timer = EpochTimes()
        steps_per_epoch = plan_steps(
            config, len(dataset.x_train), config.batch_size
        ).steps_per_epoch
        if variant == "keras-defaults":
            model.compile(
                optimizer=make_optimizer(config.optimizer, config.learning_rate),
                loss=make_loss(getattr(config, "loss_reduction", "mean")),
                metrics=["accuracy"],
            )
            model.fit(
                dataset.x_train,
                dataset.y_train,
                batch_size=config.batch_size,
                epochs=epochs,
                callbacks=[timer],
                verbose=0,
            )
        else:
            compile_model(model, config, steps_per_epoch)
            stream = make_training_stream(
                dataset.x_train, dataset.y_train, config.batch_size, config.seed
            )
            model.fit(
                stream, epochs=epochs, steps_per_epoch=steps_per_epoch, callbacks=[timer], verbose=0
            )
        _, accuracy = model.evaluate(dataset.x_test, dataset.y_test, batch_size=1024, verbose=0)
        from tfnn.bench.flops import training_flops

        return {
            "epoch_times": timer.times,
            "samples_per_epoch": steps_per_epoch * config.batch_size,
            "test_accuracy": float(accuracy),
            "training_flops_per_sample": training_flops(model),
            "steps_per_execution": resolve_steps_per_execution(
                config.steps_per_execution, steps_per_epoch
            ),
            "jit_compile": config.jit_compile,
        }


if __name__ == "__main__":
    name, variant, epochs, samples = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    print(json.dumps(measure(name, variant, epochs, samples)), flush=True)
