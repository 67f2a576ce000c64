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
from google.protobuf import text_format
from sklearn.decomposition import PCA
from sklearn.manifold import TSNE
from tensorboard.plugins import projector

from tfnn import plots
from tfnn.errors import DataError, TfnnError
from tfnn.tensorboard.images import FIGURES_GROUP, write_image
from tfnn.tensorboard.stats import ACTIVATION_SUFFIX
from tfnn.tensorboard.writers import writing_into

# The sub-run holding a run's Projector data. Not the run's root: the Projector looks
# for a checkpoint in a run and then in its parent, so one in the root would show up
# again under every sub-run (train, test...).
PROJECTOR_RUN = "projector"
METADATA_FILE = "metadata.tsv"
SPRITE_FILE = "sprite.png"
CONFIG_FILE = "projector_config.pbtxt"
TSNE_TAG = f"{FIGURES_GROUP}/tsne"
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


def embedding_key(name: str) -> str:
    """The checkpoint key of embedding ``name`` (``tf.train.Checkpoint(**{name: var})``)."""
    return f"{name}/.ATTRIBUTES/VARIABLE_VALUE"


def _file_name(name: str) -> str:
    # ``name`` labels files and checkpoint keys; keep it from making subdirectories.
    return re.sub(r"[^\w.-]", "_", name)


def _saved_embeddings(logdir: Path) -> dict[str, np.ndarray]:
    """The embeddings already in ``logdir``'s checkpoint, by name."""
    if not (logdir / "checkpoint").exists():
        return {}
    reader = tf.train.load_checkpoint(str(logdir))
    suffix = embedding_key("")
    return {
        key.removesuffix(suffix): reader.get_tensor(key)
        for key in reader.get_variable_to_shape_map()
        # The checkpoint's own counter is stored beside the embeddings.
        if key.endswith(suffix)
        and "/" not in key.removesuffix(suffix)
        and key != embedding_key("save_counter")
    }


def write_embedding(
    logdir: str | os.PathLike,
    embeddings: np.ndarray,
    labels: np.ndarray | Sequence,
    images: np.ndarray | None = None,
    name: str = "fc1",
    class_names: Sequence[str] | None = None,
) -> Path:
    """Adds ``embeddings`` to the Projector of the run in ``logdir`` (one run can hold
    several: a layer's activations, a layer's weights...).

    Writes into ``logdir``: one checkpoint holding every embedding written there (the
    Projector reads one per run), ``projector_config.pbtxt`` listing them, and, in
    ``logdir/<name>/``, ``metadata.tsv`` and ``sprite.png`` when ``images`` is given.
    The Projector only looks in directories TensorBoard lists as runs, so a one-line
    text summary makes ``logdir`` one.

    Args:
        logdir: Where the Projector's files go: a run's ``projector`` sub-run
            (:func:`projector_dir`) in tfnn's runs.
        embeddings: ``(K, D)`` activations, e.g. of the layer ``name``.
        labels: ``K`` class labels (ids or one-hot), the metadata column ``label``.
        images: ``K`` images for the sprite, grey or RGB; ``None`` for no sprite.
        name: What the points are (a layer's name); names the tensor in the Projector.
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
    key = _file_name(name)
    files = logdir / key
    try:
        files.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise TfnnError(f"cannot create {files}: {error.strerror or error}") from error
    sprite = None
    if images is not None:
        sprite = make_sprite(images)
        if max(sprite.shape[:2]) > MAX_SPRITE_SIDE:
            raise DataError(
                f"sprite would be {sprite.shape[1]}x{sprite.shape[0]} px; the Projector "
                f"allows {MAX_SPRITE_SIDE}: pass fewer or smaller images"
            )

    every = {**_saved_embeddings(logdir), key: embeddings}
    checkpoint = tf.train.Checkpoint(**{k: tf.Variable(v) for k, v in every.items()})
    # The Projector finds the run's latest checkpoint through the `checkpoint` file.
    tf.train.CheckpointManager(
        checkpoint, str(logdir), max_to_keep=1, checkpoint_name="embeddings"
    ).save()
    _write_metadata(files / METADATA_FILE, labels, class_names)

    config = projector.ProjectorConfig()
    config_path = logdir / CONFIG_FILE
    if config_path.exists():
        text_format.Parse(config_path.read_text(), config)
    kept = [info for info in config.embeddings if info.tensor_name != embedding_key(key)]
    del config.embeddings[:]
    config.embeddings.extend(kept)
    info = config.embeddings.add()
    info.tensor_name = embedding_key(key)
    # Relative paths: the Projector resolves them against the config's directory,
    # so the run can be moved or copied.
    info.metadata_path = f"{key}/{METADATA_FILE}"
    if sprite is not None:
        (files / SPRITE_FILE).write_bytes(tf.io.encode_png(sprite).numpy())
        info.sprite.image_path = f"{key}/{SPRITE_FILE}"
        height, width = np.asarray(images).shape[1:3]
        info.sprite.single_image_dim.extend([width, height])  # width first, per the proto
    projector.visualize_embeddings(str(logdir), config)

    with writing_into(logdir):
        tf.summary.text(
            f"projector/{key}",
            f"`{name}`: {embeddings.shape[0]} points x {embeddings.shape[1]} dims "
            "(see the Projector tab)",
            step=0,
        )
    return config_path


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


def layer_activations(model: keras.Model, layer_name: str, x: np.ndarray) -> np.ndarray:
    """``(K, D)``: the outputs of ``layer_name`` on ``x``, flattened per sample."""
    extractor = keras.Model(model.inputs, model.get_layer(layer_name).output)
    activations = np.asarray(extractor.predict(x, batch_size=1024, verbose=0))
    return activations.reshape(len(x), -1)


def write_layer_embedding(
    model: keras.Model,
    layer_name: str,
    x: np.ndarray,
    labels: np.ndarray,
    run_dir: str | os.PathLike,
    images: np.ndarray | None = None,
    seed: int = 0,
    tsne: bool = True,
    class_names: Sequence[str] | None = None,
) -> np.ndarray:
    """Activations of ``layer_name`` on ``x`` to the Projector (sub-run ``projector``)
    and, with ``tsne``, a static t-SNE plot (an image in the run's root and
    ``run_dir/tsne.png``). A ``<layer>_act`` Activation layer is named ``<layer>``.

    Returns:
        The ``(K, D)`` activations.
    """
    activations = layer_activations(model, layer_name, x)
    name = layer_name.removesuffix(ACTIVATION_SUFFIX)
    write_embedding(
        projector_dir(run_dir), activations, labels, images, name, class_names=class_names
    )
    if tsne:
        write_tsne(
            run_dir,
            activations,
            labels,
            Path(run_dir) / "tsne.png",
            tag=tsne_tag(name),
            seed=seed,
            class_names=class_names,
        )
    return activations


def projector_dir(run_dir: str | os.PathLike) -> Path:
    """Where a run's Projector files go: its ``projector`` sub-run."""
    return Path(run_dir) / PROJECTOR_RUN


def tsne_tag(name: str) -> str:
    """The image tag of the t-SNE plot of embedding ``name``."""
    return f"{TSNE_TAG}_{_file_name(name)}"


class Projector(keras.callbacks.Callback):
    """At the end of training: the activations of one layer on held-out samples go to
    TensorBoard's Projector (with their labels, and their images as a sprite), and, with
    ``tsne``, a t-SNE scatter plot goes to the Images tab (tens of seconds for thousands
    of points, so it is off by default).

    Functional and Sequential models (the layer's output must be reachable from the
    model's inputs).

    Args:
        log_dir: The run's log directory.
        layer: The layer's name.
        data: ``(x, y)``: the samples and their class labels.
        images: Displayable versions of ``x`` for the sprite (e.g. ``(K, 28, 28)``).
        class_names: Names of the classes, for the metadata and the plot's legend.
        tsne: Also draw the t-SNE plot.
        seed: Seeds the t-SNE.
    """

    def __init__(
        self,
        log_dir: str | os.PathLike,
        layer: str,
        data: tuple[np.ndarray, np.ndarray],
        images: np.ndarray | None = None,
        class_names: Sequence[str] | None = None,
        tsne: bool = False,
        seed: int = 0,
    ):
        super().__init__()
        self.log_dir = Path(log_dir)
        self.layer = layer
        self.x, self.y = data
        self.images = images
        self.class_names = class_names
        self.tsne = tsne
        self.seed = seed

    def on_train_end(self, logs=None):
        if self.model.stop_training and not all(
            np.isfinite(keras.ops.convert_to_numpy(v)).all() for v in self.model.weights
        ):
            return  # training diverged: there is nothing to project
        write_layer_embedding(
            self.model,
            self.layer,
            self.x,
            self.y,
            self.log_dir,
            images=self.images,
            seed=self.seed,
            tsne=self.tsne,
            class_names=self.class_names,
        )
