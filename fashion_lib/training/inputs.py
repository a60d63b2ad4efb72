"""Training inputs: the fixed-seed validation split and the tf.data pipeline with its augmentations.

A new augmentation is one more ``*_batch`` function here (vectorised over a uint8
``B x 28 x 28`` batch, driven by a stateless seed) and one more line in :func:`_augment`.
"""

from __future__ import annotations

import numpy as np

from ..backend import load_tensorflow
from ..config import TrainConfig
from ..csvio import Dataset
from ..errors import ConfigError


def split_validation(data: Dataset, config: TrainConfig) -> tuple[Dataset, Dataset | None]:
    """Apply ``limit`` then hold out ``validation_size`` images, both with ``config.seed``.

    The permutation depends only on the seed and the dataset size, so the split is
    the same on every machine and every run.
    """
    images, labels = np.asarray(data.images), np.asarray(data.labels)
    if images.ndim != 3 or images.shape[1:] != (28, 28) or images.dtype != np.uint8:
        raise ConfigError(f"training images must be uint8 N x 28 x 28, got {images.dtype} {images.shape}")
    config.check_split(len(labels))
    order = np.random.default_rng(config.seed).permutation(len(labels))
    if config.limit:
        order = order[: config.limit]
    n_val = config.validation_size
    val_idx, train_idx = np.sort(order[:n_val]), np.sort(order[n_val:])
    train = Dataset(images[train_idx], labels[train_idx], data.class_names)
    val = Dataset(images[val_idx], labels[val_idx], data.class_names) if n_val else None
    return train, val


def flip_batch(images, seed):
    """Mirror a random half of a uint8 ``B x 28 x 28`` batch left-right (one op, no per-image map)."""
    load_tensorflow()
    import tensorflow as tf

    mask = tf.random.stateless_uniform([tf.shape(images)[0], 1, 1], seed=seed) < 0.5
    return tf.where(mask, tf.reverse(images, axis=[2]), images)


def translate_batch(images, seed, max_shift: int):
    """Shift each image of a batch by up to ``max_shift`` pixels (zero fill), vectorised."""
    load_tensorflow()
    import tensorflow as tf

    n = tf.shape(images)[0]
    shifts = tf.random.stateless_uniform([n, 2], seed=seed, minval=0, maxval=2 * max_shift + 1, dtype=tf.int32)
    padded = tf.pad(images, [[0, 0], [max_shift, max_shift], [max_shift, max_shift]])
    rows = shifts[:, :1] + tf.range(28)[None, :]
    cols = shifts[:, 1:] + tf.range(28)[None, :]
    out = tf.gather(padded, rows, axis=1, batch_dims=1)
    return tf.gather(out, cols, axis=2, batch_dims=1)


def erase_batch(images, seed, size: int, probability: float = 0.5):
    """Random erasing (cutout): in a random ``probability`` share of a uint8 batch, zero a
    ``size`` x ``size`` square at a uniformly random centre (clipped at the border), vectorised."""
    load_tensorflow()
    import tensorflow as tf

    n = tf.shape(images)[0]
    centres = tf.random.stateless_uniform([n, 2], seed=seed, minval=0, maxval=28, dtype=tf.int32)
    chosen = tf.random.stateless_uniform([n, 1, 1], seed=seed + 1) < probability
    start = centres - size // 2  # the square covers start .. start + size - 1
    index = tf.range(28)[None, :]
    rows = (index >= start[:, :1]) & (index < start[:, :1] + size)
    cols = (index >= start[:, 1:]) & (index < start[:, 1:] + size)
    square = rows[:, :, None] & cols[:, None, :]
    return tf.where(square & chosen, tf.zeros_like(images), images)


def _augment(ds, config: TrainConfig):
    """``ds`` with the configured augmentations applied per batch, each batch with its own seed."""
    import tensorflow as tf

    # one stateless seed per batch from a seeded stream: reproducible and order-independent
    seeds = tf.data.Dataset.random(seed=config.seed, rerandomize_each_iteration=True).batch(2)
    ds = tf.data.Dataset.zip((ds, seeds))

    def aug(batch, seed):
        images, labels = batch
        if config.augment_flip:
            images = flip_batch(images, seed)
        if config.augment_translate:
            images = translate_batch(images, seed + 1, config.augment_translate)
        if config.augment_erase:
            images = erase_batch(images, seed + 2, config.augment_erase, config.erase_probability)
        return images, labels

    return ds.map(aug, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)


def make_dataset(
    data: Dataset, config: TrainConfig, *, training: bool, batch_size: int | None = None, image_dtype: str = "uint8"
):
    """A ``tf.data.Dataset`` of ``(uint8 images, one-hot labels)`` batches.

    ``image_dtype="float32"`` casts the (still unscaled, 0..255) pixels at the very end: Keras
    all-reduces one batch across workers to build the model, and the collective ops of
    ``MultiWorkerMirroredStrategy`` do not take uint8. The model's uint8 input accepts both.
    """
    load_tensorflow()
    import tensorflow as tf

    batch_size = batch_size or config.batch_size
    ds = tf.data.Dataset.from_tensor_slices((data.images, data.labels))
    if training:
        ds = ds.shuffle(len(data), seed=config.seed, reshuffle_each_iteration=True)
    ds = ds.batch(batch_size, drop_remainder=training and len(data) >= batch_size)
    if training and (config.augment_flip or config.augment_translate or config.augment_erase):
        ds = _augment(ds, config)
    ds = ds.map(
        lambda x, y: (tf.cast(x, image_dtype), tf.one_hot(tf.cast(y, tf.int32), 10)),
        num_parallel_calls=tf.data.AUTOTUNE,
    )
    return ds.prefetch(tf.data.AUTOTUNE)
