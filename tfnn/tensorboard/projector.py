"""Embeddings for TensorBoard's Projector, plus a static t-SNE image.

The Projector reads a TF checkpoint named by ``projector_config.pbtxt``. Keras
3's ``TensorBoard(embeddings_freq=...)`` writes ``.weights.h5`` files that it
cannot read, so we save the activations ourselves with ``tf.train.Checkpoint``.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Sequence
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf
from sklearn.decomposition import PCA
from sklearn.manifold import TSNE
from tensorboard.plugins import projector

from tfnn import plots
from tfnn.errors import DataError, TfnnError
from tfnn.tensorboard.images import write_image

# Key of the variable in a checkpoint of ``tf.train.Checkpoint(embedding=var)``.
EMBEDDING_KEY = "embedding/.ATTRIBUTES/VARIABLE_VALUE"
METADATA_FILE = "metadata.tsv"
SPRITE_FILE = "sprite.png"
CONFIG_FILE = "projector_config.pbtxt"
TSNE_TAG = "embedding/tsne"
# Dimensions kept by PCA before t-SNE: the usual trade-off between speed and
# keeping the neighbourhood structure t-SNE works on.
PCA_DIMS = 50
# The Projector refuses sprites larger than this on a side.
MAX_SPRITE_SIDE = 8192


def _tsv_cell(value: object) -> str:
    # A tab or newline inside a cell would shift every following column/row.
    return str(value).replace("\t", " ").replace("\n", " ").replace("\r", " ")


def _write_metadata(path: Path, labels: np.ndarray, class_names: Sequence[str] | None) -> None:
    # TensorBoard reads a one-column file as values only (a header would become
    # a data row) and a multi-column file as header + values.
    if class_names is None:
        lines = [_tsv_cell(label) for label in labels]
    else:
        names = [class_names[label] if 0 <= label < len(class_names) else label for label in labels]
        lines = ["label\tname"]
        lines += [
            f"{_tsv_cell(label)}\t{_tsv_cell(name)}"
            for label, name in zip(labels, names, strict=True)
        ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def make_sprite(images: np.ndarray) -> np.ndarray:
    """Tiles images into the square uint8 grid the Projector expects.

    Args:
        images: ``(n, H, W)`` grey, ``(n, H, W, 1)`` or ``(n, H, W, 3)`` images.

    Returns:
        ``(s*H, s*W, C)`` uint8 array with ``s = ceil(sqrt(n))``, each thumbnail
        min-max scaled to ``[0, 255]`` independently (so dark and bright images
        stay visible), in row-major order; unused cells are black.
    """
    images = np.asarray(images, dtype=np.float32)
    if images.ndim == 3:
        images = images[..., np.newaxis]
    if images.ndim != 4 or images.shape[-1] not in (1, 3) or len(images) == 0:
        raise DataError(f"sprite images must be (n, H, W[, 1 or 3]), got {images.shape}")
    n, height, width, channels = images.shape
    low = images.min(axis=(1, 2, 3), keepdims=True)
    span = images.max(axis=(1, 2, 3), keepdims=True) - low
    scaled = np.where(span > 0, (images - low) / np.where(span > 0, span, 1.0), 0.0)
    thumbs = np.round(scaled * 255.0).astype(np.uint8)
    side = math.ceil(math.sqrt(n))
    grid = np.zeros((side * side, height, width, channels), dtype=np.uint8)
    grid[:n] = thumbs
    # (row, col, H, W, C) -> (row, H, col, W, C) puts thumbnails side by side.
    grid = grid.reshape(side, side, height, width, channels).transpose(0, 2, 1, 3, 4)
    return grid.reshape(side * height, side * width, channels)


def write_embedding(
    logdir: str | os.PathLike,
    embeddings: np.ndarray,
    labels: np.ndarray | Sequence,
    images: np.ndarray | None = None,
    name: str = "fc1",
    class_names: Sequence[str] | None = None,
) -> Path:
    """Writes ``embeddings`` so TensorBoard's Projector shows them for this run.

    Writes into ``logdir``: a checkpoint with the ``(K, D)`` variable (key
    :data:`EMBEDDING_KEY`), ``metadata.tsv``, ``sprite.png`` when ``images`` is
    given, ``projector_config.pbtxt``, and a one-line text summary: the
    Projector only looks in directories TensorBoard lists as runs, and a
    directory is a run only if it holds an event file.

    Args:
        logdir: Directory for the files; one embedding per directory.
        embeddings: ``(K, D)`` activations, e.g. of the layer ``name``.
        labels: ``K`` class labels (ids or one-hot), the metadata column ``label``.
        images: ``K`` images for the sprite, grey or RGB; ``None`` for no sprite.
        name: Layer the activations come from; names the variable and files.
        class_names: Adds a ``name`` metadata column with the class names.

    Returns:
        The path of ``projector_config.pbtxt``.
    """
    embeddings = np.asarray(embeddings, dtype=np.float32)
    labels = plots.as_labels(labels)
    if embeddings.ndim != 2:
        raise DataError(f"embeddings must be (K, D), got shape {embeddings.shape}")
    if len(labels) != len(embeddings):
        raise DataError(f"{len(embeddings)} embeddings but {len(labels)} labels")
    if images is not None and len(images) != len(embeddings):
        raise DataError(f"{len(embeddings)} embeddings but {len(images)} sprite images")
    logdir = Path(logdir)
    try:
        logdir.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise TfnnError(f"cannot create {logdir}: {error.strerror or error}") from error

    checkpoint = tf.train.Checkpoint(embedding=tf.Variable(embeddings))
    # ``name`` only labels files; keep it from creating subdirectories.
    prefix = re.sub(r"[^\w.-]", "_", name)
    checkpoint.save(str(logdir / f"{prefix}.ckpt"))
    _write_metadata(logdir / METADATA_FILE, labels, class_names)

    config = projector.ProjectorConfig()
    info = config.embeddings.add()
    info.tensor_name = EMBEDDING_KEY
    # Relative paths: the Projector resolves them against the config's directory,
    # so the run can be moved or copied.
    info.metadata_path = METADATA_FILE
    if images is not None:
        sprite = make_sprite(images)
        if max(sprite.shape[:2]) > MAX_SPRITE_SIDE:
            raise DataError(
                f"sprite would be {sprite.shape[1]}x{sprite.shape[0]} px; the Projector "
                f"allows {MAX_SPRITE_SIDE}: pass fewer or smaller images"
            )
        (logdir / SPRITE_FILE).write_bytes(tf.io.encode_png(sprite).numpy())
        info.sprite.image_path = SPRITE_FILE
        height, width = np.asarray(images).shape[1:3]
        info.sprite.single_image_dim.extend([width, height])  # width first, per the proto
    projector.visualize_embeddings(str(logdir), config)

    writer = tf.summary.create_file_writer(str(logdir))
    with writer.as_default():
        tf.summary.text(
            "projector/info",
            f"`{name}`: {embeddings.shape[0]} points x {embeddings.shape[1]} dims "
            "(see the Projector tab)",
            step=0,
        )
    writer.close()
    return logdir / CONFIG_FILE


def _effective_perplexity(perplexity: float, n: int) -> float:
    # scikit-learn needs perplexity < n, and Barnes-Hut t-SNE looks at
    # 3 * perplexity neighbours, so small samples need a smaller perplexity.
    return min(float(perplexity), (n - 1) / 3.0)


def tsne_2d(embeddings: np.ndarray, perplexity: float = 30.0, seed: int = 0) -> np.ndarray:
    """Projects ``(K, D)`` embeddings to ``(K, 2)`` with t-SNE (PCA to 50 dims first).

    The perplexity is capped below ``K`` as scikit-learn requires, so small
    samples still work.
    """
    x = np.asarray(embeddings, dtype=np.float32)
    if x.ndim != 2 or len(x) < 3:
        raise DataError(f"t-SNE needs (K, D) embeddings with K >= 3, got {x.shape}")
    if x.shape[1] > PCA_DIMS:
        x = PCA(n_components=min(PCA_DIMS, len(x)), random_state=seed).fit_transform(x)
    tsne = TSNE(
        n_components=2,
        perplexity=_effective_perplexity(perplexity, len(x)),
        # PCA initialisation needs at least two features (a 1-unit layer has one).
        init="pca" if x.shape[1] >= 2 else "random",
        random_state=seed,
    )
    return tsne.fit_transform(x)


def write_tsne(
    logdir: str | os.PathLike,
    embeddings: np.ndarray,
    labels: np.ndarray | Sequence,
    png_path: str | os.PathLike | None,
    step: int = 0,
    tag: str = TSNE_TAG,
    perplexity: float = 30.0,
    seed: int = 0,
    class_names: Sequence[str] | None = None,
) -> np.ndarray:
    """Writes a t-SNE scatter of ``embeddings`` coloured by class.

    Saved as an image summary in ``logdir`` and as ``png_path`` (unless ``None``).
    t-SNE costs O(K log K) per iteration: a few thousand points take tens of
    seconds on a CPU.

    Returns:
        The ``(K, 2)`` t-SNE coordinates.
    """
    labels = plots.as_labels(labels)
    if len(labels) != len(embeddings):
        raise DataError(f"{len(embeddings)} embeddings but {len(labels)} labels")
    points = tsne_2d(embeddings, perplexity=perplexity, seed=seed)
    used = _effective_perplexity(perplexity, len(points))
    title = f"t-SNE of {len(points)} points (perplexity {used:g})"
    png = plots.figure_to_png(plots.scatter_figure(points, labels, title, class_names))
    write_image(logdir, tag, png, step, png_path)
    return points


def write_layer_embedding(
    model: keras.Model,
    layer_name: str,
    x: np.ndarray,
    labels: np.ndarray,
    run_dir: str | os.PathLike,
    images: np.ndarray | None = None,
    seed: int = 0,
) -> np.ndarray:
    """Activations of ``layer_name`` on ``x`` to the Projector and a static t-SNE plot.

    Writes ``run_dir/projector/`` (checkpoint, metadata, sprite, config, t-SNE
    image summary) and ``run_dir/tsne.png``.

    Returns:
        The ``(K, D)`` activations.
    """
    extractor = keras.Model(model.inputs, model.get_layer(layer_name).output)
    activations = np.asarray(extractor.predict(x, batch_size=1024, verbose=0))
    activations = activations.reshape(len(x), -1)
    projector_dir = Path(run_dir) / "projector"
    write_embedding(projector_dir, activations, labels, images=images, name=layer_name)
    write_tsne(projector_dir, activations, labels, Path(run_dir) / "tsne.png", seed=seed)
    return activations
