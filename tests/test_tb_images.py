"""Image summaries read back with TensorBoard's own event reader."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from tfnn import plots
from tfnn.errors import DataError
from tfnn.tensorboard import images

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def read_images(logdir) -> dict[str, dict[int, np.ndarray]]:
    """Returns ``{tag: {step: decoded image}}`` for every image summary in ``logdir``."""
    acc = EventAccumulator(str(logdir), size_guidance={"images": 0, "tensors": 0})
    acc.Reload()
    out: dict[str, dict[int, np.ndarray]] = {}
    for tag in acc.Tags()["tensors"]:
        if acc.SummaryMetadata(tag).plugin_data.plugin_name != "images":
            continue
        for event in acc.Tensors(tag):
            # TF2 image summaries are string tensors: [width, height, png, ...].
            values = tf.make_ndarray(event.tensor_proto)
            width, height = int(values[0]), int(values[1])
            image = tf.io.decode_png(values[2]).numpy()
            assert image.shape[:2] == (height, width)
            out.setdefault(tag, {})[event.step] = image
    return out


def png_shape(path) -> tuple[int, ...]:
    data = path.read_bytes()
    assert data.startswith(PNG_MAGIC)
    return tuple(tf.io.decode_png(data).shape)


def test_figure_to_png_renders_every_figure_maker():
    rng = np.random.default_rng(0)
    figures = [
        plots.confusion_matrix_figure(np.array([[3, 1], [0, 4]]), ["a", "b"]),
        plots.misclassified_grid_figure(rng.random((5, 6, 6)), [0, 1, 2, 0, 1], [1, 2, 0, 2, 0]),
        plots.misclassified_grid_figure(rng.random((2, 6, 6, 3)), [0, 1], [1, 0]),
        plots.misclassified_grid_figure(np.zeros((0, 6, 6)), [], []),
        plots.scatter_figure(rng.random((12, 2)), np.arange(12) % 3, "t", ["x", "y", "z"]),
    ]
    for figure in figures:
        assert plots.figure_to_png(figure).startswith(PNG_MAGIC)


def test_redrawn_plots_forget_the_previous_drawing():
    rng = np.random.default_rng(6)
    first, second = rng.integers(0, 30, (4, 4)), rng.integers(0, 30, (4, 4))
    confusion = plots.ConfusionMatrixPlot(4, ["a", "b", "c", "d"], vmax=30.0)
    before = confusion.render(first)
    assert before.shape[2] == 3 and before.dtype == np.uint8
    assert not np.array_equal(confusion.render(second), before)
    np.testing.assert_array_equal(confusion.render(first), before)
    fresh = plots.ConfusionMatrixPlot(4, ["a", "b", "c", "d"], vmax=30.0)
    np.testing.assert_array_equal(fresh.render(first), before)

    grid = plots.MisclassifiedPlot((6, 6, 1), max_images=9)
    many, few = rng.random((12, 6, 6, 1)), rng.random((2, 6, 6, 1))
    grid.render(many, np.zeros(12, int), np.ones(12, int))
    after_many = grid.render(few, [0, 1], [1, 2])
    fresh_grid = plots.MisclassifiedPlot((6, 6, 1), max_images=9)
    np.testing.assert_array_equal(fresh_grid.render(few, [0, 1], [1, 2]), after_many)
    none = grid.render(few[:0], [], [])
    assert not np.array_equal(none, after_many)


def test_image_summary_rejects_bytes_that_are_not_png(tmp_path):
    writer = tf.summary.create_file_writer(str(tmp_path))
    with writer.as_default(), pytest.raises(DataError, match="not PNG"):
        images._image_summary("t", b"GIF89a", 0)


@pytest.mark.parametrize(
    "predict_fn",
    [
        lambda g: np.stack([1 - g[:, 0], g[:, 0]], axis=1),  # softmax-like probabilities
        lambda g: (g[:, 0] > 0.5).astype(np.float32)[:, None],  # one sigmoid unit
        lambda g: (g.sum(axis=1) * 2).astype(np.int64) % 3,  # integer labels, 3 classes
    ],
)
def test_decision_boundary_figure_accepts_probabilities_and_labels(predict_fn):
    x = np.random.default_rng(1).random((20, 2))
    y = (x[:, 0] > 0.5).astype(int)
    figure = plots.decision_boundary_figure(predict_fn, x, y, "boundary", grid_size=20)
    assert plots.figure_to_png(figure).startswith(PNG_MAGIC)


def test_decision_boundary_rejects_non_2d_inputs():
    with pytest.raises(DataError):
        plots.decision_boundary_figure(lambda g: g[:, 0], np.zeros((4, 3)), [0, 1, 0, 1])


def test_write_image_writes_summary_and_png(tmp_path):
    png = plots.figure_to_png(plots.confusion_matrix_figure(np.eye(3), None))
    images.write_image(tmp_path / "run", "some/tag", png, step=7, png_path=tmp_path / "a/b.png")
    images.write_image(tmp_path / "run", "some/tag", png, step=8)

    written = read_images(tmp_path / "run")
    assert set(written) == {"some/tag"}
    assert sorted(written["some/tag"]) == [7, 8]
    assert written["some/tag"][7].shape == tf.io.decode_png(png).shape
    assert (tmp_path / "a/b.png").read_bytes() == png


def test_write_confusion_matrix_and_misclassified(tmp_path):
    rng = np.random.default_rng(2)
    y_true = np.array([0, 1, 2, 2, 1, 0])
    y_pred = np.array([0, 2, 2, 1, 1, 0])
    one_hot = np.eye(3)[y_pred]
    images.write_confusion_matrix(tmp_path, y_true, one_hot, ["a", "b", "c"], 3, tmp_path / "png")
    images.write_misclassified(tmp_path, rng.random((6, 8, 8)), y_true, y_pred, 3, tmp_path / "png")

    written = read_images(tmp_path)
    assert set(written[images.CONFUSION_MATRIX_TAG]) == {3}
    assert set(written[images.MISCLASSIFIED_TAG]) == {3}
    cm_shape = png_shape(tmp_path / "png/confusion_matrix.png")
    assert cm_shape[0] > 100 and cm_shape[1] > 100
    assert png_shape(tmp_path / "png/misclassified.png")[0] > 50


def test_write_misclassified_checks_lengths(tmp_path):
    with pytest.raises(DataError):
        images.write_misclassified(tmp_path, np.zeros((3, 4, 4)), [0, 1], [0, 1], 0, None)


def test_write_decision_boundary(tmp_path):
    x = np.random.default_rng(3).normal(size=(30, 2))
    y = (x[:, 1] > 0).astype(int)
    images.write_decision_boundary(
        tmp_path, lambda g: 1 / (1 + np.exp(-g[:, 1])), x, y, 5, tmp_path, tag="boundary/final"
    )
    assert set(read_images(tmp_path)["boundary/final"]) == {5}
    assert png_shape(tmp_path / "final.png")[2] in (3, 4)


def test_confusion_matrix_callback_writes_every_epoch(tmp_path):
    rng = np.random.default_rng(4)
    x = rng.random((40, 4, 4)).astype(np.float32)
    y = rng.integers(0, 3, size=40)
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [keras.Input((4, 4)), keras.layers.Flatten(), keras.layers.Dense(3, activation="softmax")]
    )
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    callback = images.ClassifierFigures(
        tmp_path / "run",
        x[:12],
        y[:12],
        tmp_path / "png",
        class_names=["a", "b", "c"],
        images=x[:12],
    )
    model.fit(x, y, epochs=2, batch_size=20, verbose=0, callbacks=[callback])

    written = read_images(tmp_path / "run")
    # Step = epochs trained, as the epoch curves.
    assert sorted(written[images.CONFUSION_MATRIX_TAG]) == [1, 2]
    assert sorted(written[images.MISCLASSIFIED_TAG]) == [1, 2]
    final = tf.io.decode_png((tmp_path / "png/confusion_matrix.png").read_bytes()).numpy()
    np.testing.assert_array_equal(written[images.CONFUSION_MATRIX_TAG][2][..., :3], final[..., :3])
    assert (tmp_path / "png/misclassified.png").is_file()
    assert not callback.writers._writers  # closed by on_train_end


def test_confusion_matrix_callback_draws_what_a_killed_run_left_pending(tmp_path):
    rng = np.random.default_rng(8)
    x = rng.random((30, 4, 4)).astype(np.float32)
    y = rng.integers(0, 3, size=30)
    model = keras.Sequential(
        [keras.Input((4, 4)), keras.layers.Flatten(), keras.layers.Dense(3, activation="softmax")]
    )

    def callback() -> images.ClassifierFigures:
        made = images.ClassifierFigures(tmp_path / "run", x, y, tmp_path / "png", images=x)
        made.set_model(model)
        return made

    killed = callback()
    killed.on_train_begin()
    killed.on_epoch_end(0)
    killed.on_epoch_end(1)  # epoch 0's figures, drawn by now, are written here
    killed._drawer.shutdown()  # the process dies before epoch 1's are written
    killed.writers.flush()
    pending = tmp_path / "run/figures-pending"
    assert [p.name for p in pending.iterdir()] == ["epoch-000001.npy"]
    assert sorted(read_images(tmp_path / "run")[images.CONFUSION_MATRIX_TAG]) == [1]
    killed.writers.close()

    resumed = callback()
    resumed.on_train_begin()
    written = read_images(tmp_path / "run")
    assert sorted(written[images.CONFUSION_MATRIX_TAG]) == [1, 2]
    assert sorted(written[images.MISCLASSIFIED_TAG]) == [1, 2]
    resumed.on_train_end()
    assert not pending.exists()


def test_confusion_matrix_callback_writes_last_epoch_when_off_schedule(tmp_path):
    x = np.random.default_rng(5).random((10, 2)).astype(np.float32)
    y = np.arange(10) % 2
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer="sgd", loss="binary_crossentropy")
    callback = images.ClassifierFigures(tmp_path, x, y, None, every_epochs=2)
    model.fit(x, y, epochs=3, verbose=0, callbacks=[callback])
    # Epoch 1 is on the schedule (step 2); epoch 2 is the last one, written at train end.
    assert sorted(read_images(tmp_path)[images.CONFUSION_MATRIX_TAG]) == [2, 3]
