"""Train the classifier: held-out validation split, tf.data pipeline, callbacks, strategy.

``train(config, dataset, output_dir=...)`` splits off a fixed-seed validation set, feeds
uint8 batches through a tf.data pipeline (shuffle, batch, vectorised flips, prefetch),
trains with AdamW + warm-up/cosine schedule + label smoothing, writes the history per
epoch (``history.csv`` and ``history.json``), restores the weights of the best
validation epoch and returns a :class:`TrainResult`.

Distribution: pass a ``tf.distribute`` strategy, or let :func:`strategy_from_environment`
pick one (``MultiWorkerMirroredStrategy`` when ``TF_CONFIG`` is set, ``MirroredStrategy``
over several local GPUs, else the default single-device strategy). Under
``MultiWorkerMirroredStrategy`` training runs a plain ``strategy.run`` loop that drives the
same callbacks (Keras 3.15's ``fit`` fails there) and batch norm is synchronised, so every
worker ends with identical weights; only the chief writes files.
"""

from __future__ import annotations

import csv
import json
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .backend import load_tensorflow
from .config import TrainConfig
from .csvio import Dataset
from .errors import ConfigError
from .runfolder import CONFIG_FILE, HISTORY_CSV, HISTORY_JSON, TRAIN_RESULT_FILE


@dataclass
class TrainResult:
    """What a training run produced."""

    model: Any  # keras.Model (best validation weights restored)
    history: dict[str, list[float]]  # per-epoch metrics: loss, accuracy, val_*, lr, seconds
    epochs_run: int
    train_seconds: float  # wall time of model.fit
    best_epoch: int | None  # 1-based epoch whose weights the model holds
    validation: dict[str, float] = field(default_factory=dict)  # accuracy/loss (and tta) on the split
    config: TrainConfig | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "history": self.history,
            "epochs_run": self.epochs_run,
            "train_seconds": round(self.train_seconds, 3),
            "best_epoch": self.best_epoch,
            "validation": self.validation,
            "config": self.config.to_dict() if self.config else None,
        }


# ---------------------------------------------------------------------------- data split


def split_validation(data: Dataset, config: TrainConfig) -> tuple[Dataset, Dataset | None]:
    """Apply ``limit`` then hold out ``validation_size`` images, both with ``config.seed``.

    The permutation depends only on the seed and the dataset size, so the split is
    the same on every machine and every run.
    """
    images, labels = np.asarray(data.images), np.asarray(data.labels)
    if images.ndim != 3 or images.shape[1:] != (28, 28) or images.dtype != np.uint8:
        raise ConfigError(f"training images must be uint8 N x 28 x 28, got {images.dtype} {images.shape}")
    order = np.random.default_rng(config.seed).permutation(len(labels))
    if config.limit:
        order = order[: config.limit]
    n_val = config.validation_size
    if n_val and n_val >= len(order):
        raise ConfigError(
            f"validation_size={n_val} leaves no training images out of {len(order)}; "
            "use a smaller validation_size or a larger limit"
        )
    val_idx, train_idx = np.sort(order[:n_val]), np.sort(order[n_val:])
    train = Dataset(images[train_idx], labels[train_idx], data.class_names)
    val = Dataset(images[val_idx], labels[val_idx], data.class_names) if n_val else None
    return train, val


# ---------------------------------------------------------------------------- tf.data


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
    augment = training and (config.augment_flip or config.augment_translate)
    if augment:
        # one stateless seed per batch from a seeded stream: reproducible and order-independent
        seeds = tf.data.Dataset.random(seed=config.seed, rerandomize_each_iteration=True).batch(2)
        ds = tf.data.Dataset.zip((ds, seeds))

        def aug(batch, seed):
            images, labels = batch
            if config.augment_flip:
                images = flip_batch(images, seed)
            if config.augment_translate:
                images = translate_batch(images, seed + 1, config.augment_translate)
            return images, labels

        ds = ds.map(aug, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    ds = ds.map(
        lambda x, y: (tf.cast(x, image_dtype), tf.one_hot(tf.cast(y, tf.int32), 10)),
        num_parallel_calls=tf.data.AUTOTUNE,
    )
    return ds.prefetch(tf.data.AUTOTUNE)


# ---------------------------------------------------------------------------- strategy


def strategy_from_environment():
    """``MultiWorkerMirroredStrategy`` if ``TF_CONFIG`` names a cluster, ``MirroredStrategy``
    over several local GPUs, else the default (one device) strategy."""
    load_tensorflow()
    import tensorflow as tf

    tf_config = os.environ.get("TF_CONFIG", "").strip()
    if tf_config:
        try:
            cluster = json.loads(tf_config).get("cluster", {})
        except json.JSONDecodeError as exc:
            raise ConfigError(f"TF_CONFIG is not valid JSON ({exc}); see the README for an example") from None
        if sum(len(v) for v in cluster.values()) > 1:
            return tf.distribute.MultiWorkerMirroredStrategy()
    gpus = tf.config.list_logical_devices("GPU")
    if len(gpus) > 1:
        return tf.distribute.MirroredStrategy()
    return tf.distribute.get_strategy()


def _is_multi_worker(strategy) -> bool:
    resolver = getattr(strategy, "cluster_resolver", None)
    return bool(resolver is not None and resolver.cluster_spec().as_dict())


def is_chief(strategy) -> bool:
    """True on the worker that writes files (always true without a cluster)."""
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or not resolver.cluster_spec().as_dict():
        return True
    task_type, task_id = resolver.task_type, resolver.task_id
    return task_type == "chief" or (
        task_type == "worker" and task_id == 0 and "chief" not in resolver.cluster_spec().as_dict()
    )


# ---------------------------------------------------------------------------- multi-worker loop


def _local_predict(model, images: np.ndarray, *, tta: bool = False, batch_size: int = 1024) -> np.ndarray:
    """Probabilities computed on this worker alone (every worker holds the same weights)."""

    def run(x):
        return np.concatenate(
            [np.asarray(model(x[i : i + batch_size], training=False)) for i in range(0, len(x), batch_size)]
        )

    probs = run(images)
    return (probs + run(np.ascontiguousarray(images[:, :, ::-1]))) / 2 if tta else probs


def _fit_multi_worker(
    model, config: TrainConfig, strategy, train_ds, val_data, steps_per_epoch: int, callbacks: list
) -> dict[str, list[float]]:
    """A plain distributed training loop that drives the same Keras callbacks as ``fit``.

    Keras 3.15's ``fit`` fails under ``MultiWorkerMirroredStrategy`` (it all-reduces nested
    batches and scalar logs with calls the collective strategy rejects), so multi-worker runs
    use ``strategy.run`` directly: per-replica loss scaled by the global batch, gradients
    all-reduced by the optimizer, BN statistics and metrics kept in mirrored variables.
    """
    load_tensorflow()
    import keras
    import tensorflow as tf

    loss_fn = keras.losses.CategoricalCrossentropy(label_smoothing=config.label_smoothing, reduction=None)
    dist = iter(strategy.experimental_distribute_dataset(train_ds.repeat()))
    optimizer = model.optimizer

    def step(images, labels):
        with tf.GradientTape() as tape:
            probs = model(images, training=True)
            loss = tf.nn.compute_average_loss(loss_fn(labels, probs), global_batch_size=config.batch_size)
        grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables))
        correct = tf.reduce_sum(tf.cast(tf.argmax(probs, 1) == tf.argmax(labels, 1), tf.float32))
        return loss, correct

    @tf.function
    def train_step(iterator):
        loss, correct = strategy.run(step, args=next(iterator))
        return (strategy.reduce("SUM", loss, axis=None), strategy.reduce("SUM", correct, axis=None))

    history: dict[str, list[float]] = {}
    model.stop_training = False
    for cb in callbacks:
        cb.set_model(model)
        cb.on_train_begin()
    for epoch in range(config.epochs):
        for cb in callbacks:
            cb.on_epoch_begin(epoch)
        total_loss, total_correct = 0.0, 0.0
        for _ in range(steps_per_epoch):
            loss, correct = train_step(dist)
            total_loss += float(loss)
            total_correct += float(correct)
        logs = {"loss": total_loss / steps_per_epoch, "accuracy": total_correct / (steps_per_epoch * config.batch_size)}
        if val_data is not None:
            probs = _local_predict(model, val_data.images)
            labels = val_data.labels.astype(np.int64)
            smooth = np.full_like(probs, config.label_smoothing / 10)
            smooth[np.arange(len(labels)), labels] += 1 - config.label_smoothing
            logs["val_loss"] = float(np.mean(-(smooth * np.log(np.clip(probs, 1e-7, 1))).sum(1)))
            logs["val_accuracy"] = float(np.mean(probs.argmax(1) == labels))
        for cb in callbacks:
            cb.on_epoch_end(epoch, logs)
        for k, v in logs.items():
            history.setdefault(k, []).append(float(v))
        if model.stop_training:
            break
    for cb in callbacks:
        cb.on_train_end()
    return history


# ---------------------------------------------------------------------------- callbacks


def _callbacks(output_dir: Path | None, write: bool, epochs: int, verbose: int, t0: list[float]):
    load_tensorflow()
    import keras

    class Record(keras.callbacks.Callback):
        """Time each epoch; write history.csv / history.json after every epoch; print progress."""

        def __init__(self) -> None:
            super().__init__()
            self.rows: list[dict[str, float]] = []

        def on_epoch_begin(self, epoch, logs=None):
            self._start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            row = {"epoch": epoch + 1, **{k: float(v) for k, v in (logs or {}).items()}}
            opt = self.model.optimizer
            row["lr"] = float(
                opt.learning_rate
                if not callable(getattr(opt, "_learning_rate", None))
                else opt._learning_rate(opt.iterations)
            )
            row["seconds"] = time.perf_counter() - self._start
            self.rows.append(row)
            if write and output_dir is not None:
                keys = list(dict.fromkeys(k for r in self.rows for k in r))
                tmp = output_dir / f".{HISTORY_CSV}.part"
                with open(tmp, "w", newline="") as fh:
                    w = csv.DictWriter(fh, fieldnames=keys)
                    w.writeheader()
                    w.writerows(self.rows)
                os.replace(tmp, output_dir / HISTORY_CSV)
                tmp = output_dir / f".{HISTORY_JSON}.part"
                tmp.write_text(json.dumps(self.rows, indent=1))
                os.replace(tmp, output_dir / HISTORY_JSON)
            if verbose:
                shown = "  ".join(
                    f"{k} {row[k]:.4f}" for k in ("loss", "accuracy", "val_loss", "val_accuracy") if k in row
                )
                print(
                    f"epoch {epoch + 1}/{epochs}  {shown}  lr {row['lr']:.2e}  {row['seconds']:.1f}s "
                    f"(total {time.perf_counter() - t0[0]:.0f}s)",
                    file=sys.stdout,
                    flush=True,
                )

    return Record()


# ---------------------------------------------------------------------------- training


def _optimizer(config: TrainConfig, total_steps: int):
    load_tensorflow()
    import keras

    warmup = int(round(config.warmup_fraction * total_steps))
    schedule = keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=0.0 if warmup else config.learning_rate,
        decay_steps=max(1, total_steps - warmup),
        warmup_target=config.learning_rate if warmup else None,
        warmup_steps=warmup,
    )
    name = config.optimizer.lower()
    if name == "adamw":
        return keras.optimizers.AdamW(schedule, weight_decay=config.weight_decay)
    if name == "adam":
        return keras.optimizers.Adam(schedule)
    if name == "sgd":
        return keras.optimizers.SGD(schedule, momentum=0.9, nesterov=True, weight_decay=config.weight_decay or None)
    return keras.optimizers.RMSprop(schedule)


def seed_everything(config: TrainConfig) -> None:
    """Seed Python, numpy and TensorFlow; with ``deterministic`` also force deterministic ops."""
    load_tensorflow()
    import keras
    import tensorflow as tf

    keras.utils.set_random_seed(config.seed)
    if config.deterministic:
        tf.config.experimental.enable_op_determinism()


def train(
    config: TrainConfig,
    train: Dataset,
    *,
    output_dir: Path | str | None = None,
    strategy=None,
    callbacks: Sequence[Any] = (),
    verbose: int = 1,
) -> TrainResult:
    """Train a fresh model on ``train`` (minus the validation split) with ``config``."""
    load_tensorflow()
    import keras

    from .evaluate import predict_proba
    from .model import build_model, export_model, tta_views

    config = config.validate()
    output_dir = Path(output_dir) if output_dir is not None else None
    strategy = strategy or strategy_from_environment()
    write = is_chief(strategy)
    if output_dir is not None and write:
        output_dir.mkdir(parents=True, exist_ok=True)
        (output_dir / CONFIG_FILE).write_text(config.to_json())
    seed_everything(config)

    fit_data, val_data = split_validation(train, config)
    if len(fit_data) == 0:
        raise ConfigError("no training images: check limit and validation_size")
    image_dtype = "float32" if _is_multi_worker(strategy) else "uint8"
    train_ds = make_dataset(fit_data, config, training=True, image_dtype=image_dtype)
    val_ds = (
        make_dataset(val_data, config, training=False, batch_size=1024, image_dtype=image_dtype) if val_data else None
    )
    steps_per_epoch = max(1, len(fit_data) // config.batch_size)
    total_steps = steps_per_epoch * config.epochs

    with strategy.scope():
        model = build_model(config, sync_batch_norm=strategy.num_replicas_in_sync > 1)
        model.compile(
            optimizer=_optimizer(config, total_steps),
            loss=keras.losses.CategoricalCrossentropy(label_smoothing=config.label_smoothing),
            metrics=["accuracy"],
        )

    t0 = [time.perf_counter()]
    record = _callbacks(output_dir, write, config.epochs, verbose, t0)
    cbs: list[Any] = [record, *callbacks]  # user callbacks may add to the logs early stopping reads
    early = None
    if val_ds is not None:
        early = keras.callbacks.EarlyStopping(
            monitor="val_accuracy",
            mode="max",
            patience=config.early_stopping_patience or config.epochs,  # 0: never stop, still restore best
            restore_best_weights=True,
        )
        cbs.append(early)

    if verbose:
        print(
            f"training on {len(fit_data):,} images ({len(val_data) if val_data else 0:,} held out for validation), "
            f"{config.epochs} epochs of {steps_per_epoch} steps, batch {config.batch_size}, "
            f"{model.count_params():,} parameters, {strategy.num_replicas_in_sync} replica(s)",
            flush=True,
        )
    t0[0] = time.perf_counter()
    if _is_multi_worker(strategy):  # Keras 3.15 fit() cannot run under MultiWorkerMirroredStrategy
        fit_history = _fit_multi_worker(model, config, strategy, train_ds, val_data, steps_per_epoch, cbs)
    else:
        fit_history = model.fit(
            train_ds, epochs=config.epochs, validation_data=val_ds, callbacks=cbs, verbose=0, shuffle=False
        ).history  # tf.data shuffles
    train_seconds = time.perf_counter() - t0[0]

    history = {k: [float(v) for v in vals] for k, vals in fit_history.items()}
    history["lr"] = [r["lr"] for r in record.rows]
    history["seconds"] = [r["seconds"] for r in record.rows]
    epochs_run = len(record.rows)
    best_epoch = (early.best_epoch + 1) if early is not None and early.best_weights is not None else None

    validation: dict[str, float] = {}
    if val_data is not None:
        predict = _local_predict if _is_multi_worker(strategy) else predict_proba
        probs = predict(model, val_data.images, tta=False)
        validation["accuracy"] = float(np.mean(probs.argmax(1) == val_data.labels))
        validation["loss"] = float(np.mean(-np.log(np.clip(probs[np.arange(len(probs)), val_data.labels], 1e-7, 1))))
        views = len(tta_views(config))
        if views > 1:  # the model as shipped: test-time views averaged inside the file
            shipped = predict(export_model(model, config), val_data.images, tta=False)
            validation["accuracy_tta"] = float(np.mean(shipped.argmax(1) == val_data.labels))
        if verbose:
            tta = f" ({views} test-time views averaged: {validation['accuracy_tta']:.4f})" if views > 1 else ""
            print(
                f"best epoch {best_epoch}: validation accuracy {validation['accuracy']:.4f}{tta}; "
                f"trained in {train_seconds:.0f}s",
                flush=True,
            )
    result = TrainResult(model, history, epochs_run, train_seconds, best_epoch, validation, config)
    if output_dir is not None and write:
        (output_dir / TRAIN_RESULT_FILE).write_text(json.dumps(result.to_dict(), indent=1))
    return result
