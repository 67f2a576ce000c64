"""`tfnn.tensorboard.callbacks` on a user's own Keras models, read back from the event files."""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf
from google.protobuf import text_format
from tensorboard.plugins import projector as tb_projector

import tfnn

import events

CLASSES = 3


def make_data(samples: int = 96, features: int = 6, seed: int = 0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(samples, features)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int64) + (x[:, 1] > 0.5).astype(np.int64)
    return x, y


def sequential() -> keras.Model:
    return keras.Sequential(
        [
            keras.Input((6,)),
            keras.layers.Dense(8, activation="relu", name="hidden"),
            keras.layers.Dropout(0.1),
            keras.layers.Dense(CLASSES, activation="softmax", name="out"),
        ],
        name="seq",
    )


def two_branches(swapped: bool = False) -> keras.Model:
    """Two dense branches joined; ``swapped`` joins them the other way round (the same
    layers, names and output shapes, wired otherwise)."""
    inputs = keras.Input((6,))
    left = keras.layers.Dense(5, activation="tanh", name="left")(inputs)
    right = keras.layers.Dense(4, activation="relu", name="right")(inputs)
    joined = keras.layers.Concatenate(name="joined")([right, left] if swapped else [left, right])
    outputs = keras.layers.Dense(CLASSES, activation="softmax", name="out")(joined)
    return keras.Model(inputs, outputs, name="branches")


class Subclassed(keras.Model):
    def __init__(self):
        super().__init__(name="mine")
        self.hidden = keras.layers.Dense(7, activation="relu", name="hidden")
        self.out = keras.layers.Dense(CLASSES, activation="softmax", name="out")

    def call(self, x):
        return self.out(self.hidden(x))


def batches(x, y, batch_size=16):
    """A generator of (x, y) batches, repeating (Keras asks for steps_per_epoch)."""
    while True:
        for start in range(0, len(x), batch_size):
            yield x[start : start + batch_size], y[start : start + batch_size]


def fit_with_callbacks(kind: str, log_dir: Path) -> keras.Model:
    keras.utils.set_random_seed(0)
    x, y = make_data()
    x_val, y_val = make_data(32, seed=1)
    model = {"sequential": sequential, "functional": two_branches, "subclassed": Subclassed}[kind]()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    callbacks = tfnn.tensorboard.callbacks(
        log_dir,
        hparams={"model": kind, "units": 8},
        log_every=2,
        statistics_every=3,
        probe=(x[:32], y[:32]),
        figures=(x_val, y_val),
        projector=None if kind == "subclassed" else "out",
    )
    fit_args = {
        # numpy arrays, tf.data and a generator: the callbacks read steps from Keras.
        "sequential": dict(x=x, y=y, batch_size=16),
        "functional": dict(x=tf.data.Dataset.from_tensor_slices((x, y)).batch(16), shuffle=False),
        "subclassed": dict(x=batches(x, y), steps_per_epoch=6, shuffle=False),
    }[kind]
    model.fit(**fit_args, epochs=2, validation_data=(x_val, y_val), callbacks=callbacks, verbose=0)
    return model


@pytest.fixture(scope="module", params=["sequential", "functional", "subclassed"])
def fitted(request, tmp_path_factory):
    log_dir = tmp_path_factory.mktemp(request.param) / "run"
    model = fit_with_callbacks(request.param, log_dir)
    return request.param, log_dir, model


def dense_layers(kind: str) -> list[str]:
    return {
        "sequential": ["hidden", "out"],
        "functional": ["left", "right", "out"],
        "subclassed": ["hidden", "out"],
    }[kind]


def test_curves_train_and_validation_overlaid(fitted):
    _, log_dir, _ = fitted
    train = events.scalars(log_dir / "train")
    validation = events.scalars(log_dir / "validation")
    for tag in ("epoch_loss", "epoch_accuracy"):
        assert [step for step, _ in train[tag]] == [1, 2]
        assert [step for step, _ in validation[tag]] == [1, 2]
    assert [step for step, _ in train["step_loss"]][:3] == [2, 4, 6]
    assert "learning_rate" in train


def test_op_graph_holds_the_layers_and_their_gradients(fitted):
    kind, log_dir, _ = fitted
    ops = events.graph_ops(log_dir / "train")
    assert {"MatMul", "BiasAddGrad"} <= ops
    names = events.graph_node_names(log_dir / "train")
    # The graph opens on the model (its layers inside) and the step's parts.
    assert {name.split("/")[0] for name in names} >= {"loss", "gradients", "optimizer"}
    for layer in dense_layers(kind):
        assert any(f"/{layer}/" in f"/{name}" for name in names), layer


def test_statistics_of_every_layer(fitted):
    kind, log_dir, _ = fitted
    histograms = events.histogram_steps(log_dir / "train")
    for layer in dense_layers(kind):
        for kind_of in ("weights", "biases", "weights_gradient", "biases_gradient"):
            assert histograms[f"statistics/{layer}/{kind_of}"][0] == 0, (layer, kind_of)
    activations = [tag for tag in histograms if tag.endswith("/activations")]
    if kind == "subclassed":
        # Subclassed models do not expose their layers' outputs: weights and gradients only.
        assert activations == []
    else:
        assert f"statistics/{dense_layers(kind)[0]}/activations" in activations
    scalars = events.scalars(log_dir / "train")
    norm = scalars[f"statistics/{dense_layers(kind)[0]}/weights_gradient/norm"]
    assert [step for step, _ in norm] == [0, 3, 6, 9, 12]
    assert all(value > 0 for _, value in norm)


def test_hparams_session_and_figures(fitted):
    kind, log_dir, _ = fitted
    assert events.hparams_session(log_dir) == {"model": kind, "units": 8.0}
    images = events.decoded_images(log_dir)
    assert sorted(images["figures/confusion_matrix"]) == [1, 2]


def test_projector_config_loads(fitted):
    kind, log_dir, model = fitted
    if kind == "subclassed":
        assert not (log_dir / "projector").exists()
        return
    projector = log_dir / "projector"
    config = tb_projector.ProjectorConfig()
    text_format.Parse((projector / "projector_config.pbtxt").read_text(), config)
    (info,) = config.embeddings
    stored = tf.train.load_checkpoint(str(projector)).get_tensor(info.tensor_name)
    assert stored.shape == (32, CLASSES)
    rows = (projector / info.metadata_path).read_text().splitlines()
    assert len(rows) == 32


def test_writers_closed_after_training(fitted):
    _, log_dir, _ = fitted
    from tfnn.tensorboard.writers import RunWriters

    assert not RunWriters.of(log_dir)._writers


def keras_summary(model: keras.Model) -> str:
    lines: list[str] = []
    model.summary(print_fn=lambda line, **_: lines.append(line))
    return "\n".join(lines)


def test_model_summary_is_keras_own_for_every_structure():
    """The HParams text's model summary is made once per structure: a model like an
    earlier one (a search's next trial) gets the same text, one that differs only in
    a width, its inputs' order or its optimizer's state gets its own."""
    from tfnn.tensorboard.hparams import model_summary

    def named(width: int) -> keras.Model:
        return keras.Sequential(
            [
                keras.Input((6,)),
                keras.layers.Dense(width, activation="relu", name="hidden"),
                keras.layers.Dropout(0.1, name="drop"),
                keras.layers.Dense(CLASSES, activation="softmax", name="out"),
            ],
            name="seq",
        )

    trained = named(8)
    trained.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    trained.fit(*make_data(16), epochs=1, verbose=0)
    models = [named(8), named(8), named(9), trained, two_branches(), two_branches(swapped=True)]
    texts = [model_summary(model) for model in models]
    assert texts == [keras_summary(model) for model in models]
    assert texts[0] == texts[1] and len(set(texts)) == 5
