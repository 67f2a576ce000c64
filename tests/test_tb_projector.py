"""Projector files and t-SNE images, read back as TensorBoard would."""

from __future__ import annotations

import math

import numpy as np
import pytest
import tensorflow as tf
from google.protobuf import text_format
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from tensorboard.plugins import projector as tb_projector

from tfnn.errors import DataError
from tfnn.tensorboard import projector


def read_config(logdir) -> tb_projector.ProjectorConfig:
    config = tb_projector.ProjectorConfig()
    text_format.Parse((logdir / "projector_config.pbtxt").read_text(), config)
    return config


@pytest.mark.parametrize(
    ("k", "image_shape"), [(10, (6, 6)), (9, (5, 7, 3)), (5, (4, 4, 1))], ids=["grey", "rgb", "c1"]
)
def test_write_embedding_with_sprite_and_class_names(tmp_path, k, image_shape):
    rng = np.random.default_rng(0)
    embeddings = rng.normal(size=(k, 8)).astype(np.float32)
    labels = np.arange(k) % 3
    images = rng.random((k, *image_shape)) * 7 - 2  # any range; the sprite rescales it
    path = projector.write_embedding(
        tmp_path, embeddings, labels, images=images, name="fc1", class_names=["a\tx", "b", "c"]
    )

    assert path == tmp_path / "projector_config.pbtxt"
    (info,) = read_config(tmp_path).embeddings
    assert info.tensor_name == projector.embedding_key("fc1")
    files = tmp_path / "fc1"
    assert info.metadata_path == "fc1/metadata.tsv"
    assert info.sprite.image_path == "fc1/sprite.png"
    height, width = image_shape[:2]
    assert list(info.sprite.single_image_dim) == [width, height]

    stored = tf.train.load_checkpoint(str(tmp_path)).get_tensor(info.tensor_name)
    np.testing.assert_allclose(stored, embeddings)

    rows = (files / "metadata.tsv").read_text().splitlines()
    assert len(rows) == k + 1
    assert rows[0] == "label\tname"
    assert rows[1] == "0\ta x"  # a tab in a name would add a column
    assert all(len(row.split("\t")) == 2 for row in rows)

    sprite = tf.io.decode_png((files / "sprite.png").read_bytes()).numpy()
    side = math.ceil(math.sqrt(k))
    channels = image_shape[2] if len(image_shape) == 3 else 1
    assert sprite.shape == (side * height, side * width, channels)
    # Every thumbnail is stretched to the full 0..255 range.
    first = sprite[:height, :width]
    assert first.min() == 0 and first.max() == 255


def test_write_embedding_single_column_metadata_has_no_header(tmp_path):
    embeddings = np.random.default_rng(1).normal(size=(6, 3))
    projector.write_embedding(tmp_path, embeddings, np.eye(3)[[0, 1, 2, 0, 1, 2]], name="h")

    rows = (tmp_path / "h/metadata.tsv").read_text().splitlines()
    assert rows == ["0", "1", "2", "0", "1", "2"]
    (info,) = read_config(tmp_path).embeddings
    assert not info.HasField("sprite")
    reader = tf.train.load_checkpoint(str(tmp_path))
    assert reader.get_variable_to_shape_map()[projector.embedding_key("h")] == [6, 3]
    # An event file makes the directory a run, which is where the Projector looks.
    acc = EventAccumulator(str(tmp_path), size_guidance={"tensors": 0})
    acc.Reload()
    assert "projector/h" in acc.Tags()["tensors"]


def test_one_run_holds_several_embeddings(tmp_path):
    # The Projector reads one checkpoint per run: a second embedding joins the first.
    rng = np.random.default_rng(3)
    first, second = rng.normal(size=(5, 4)), rng.normal(size=(7, 2))
    projector.write_embedding(tmp_path, first, np.arange(5) % 2, name="fc1")
    projector.write_embedding(tmp_path, second, np.arange(7) % 2, name="fc1 weights")
    names = [info.tensor_name for info in read_config(tmp_path).embeddings]
    assert names == [projector.embedding_key("fc1"), projector.embedding_key("fc1_weights")]
    reader = tf.train.load_checkpoint(str(tmp_path))
    np.testing.assert_allclose(reader.get_tensor(names[0]), first, rtol=1e-6)
    np.testing.assert_allclose(reader.get_tensor(names[1]), second, rtol=1e-6)
    assert (tmp_path / "fc1_weights/metadata.tsv").exists()


def test_write_embedding_rejects_mismatched_lengths(tmp_path):
    with pytest.raises(DataError):
        projector.write_embedding(tmp_path, np.zeros((4, 2)), [0, 1, 2])
    with pytest.raises(DataError):
        projector.write_embedding(
            tmp_path, np.zeros((4, 2)), [0, 1, 2, 3], images=np.zeros((3, 2, 2))
        )


def test_make_sprite_layout():
    images = np.stack([np.full((2, 3), i, dtype=np.float32) for i in range(5)])
    images[:, 0, 0] = -1  # give each thumbnail a range so scaling is defined
    sprite = projector.make_sprite(images)
    assert sprite.shape == (3 * 2, 3 * 3, 1)
    # Thumbnail 4 sits in row 1, column 1; cells after the last image are black.
    assert sprite[2 + 1, 3 + 1, 0] == 255
    assert not sprite[4:].any() and not sprite[2:4, 6:].any()


def test_write_tsne(tmp_path):
    rng = np.random.default_rng(2)
    labels = np.repeat(np.arange(3), 10)
    # 60 dims > 50 takes the PCA path; clusters far apart should stay apart.
    embeddings = rng.normal(size=(30, 60)) + labels[:, None] * 20.0
    png_path = tmp_path / "png/tsne.png"
    points = projector.write_tsne(tmp_path / "run", embeddings, labels, png_path, step=4)

    assert points.shape == (30, 2)
    assert png_path.read_bytes().startswith(b"\x89PNG")
    acc = EventAccumulator(str(tmp_path / "run"), size_guidance={"tensors": 0})
    acc.Reload()
    (event,) = acc.Tensors(projector.TSNE_TAG)
    assert event.step == 4
    assert acc.SummaryMetadata(projector.TSNE_TAG).plugin_data.plugin_name == "images"
    image = tf.io.decode_png(event.tensor_proto.string_val[2]).numpy()
    assert image.shape[:2] == tf.io.decode_png(png_path.read_bytes()).shape[:2]
