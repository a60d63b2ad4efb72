"""A plain distributed training loop that drives the same Keras callbacks as ``fit``.

Keras 3.15's ``fit`` fails under ``MultiWorkerMirroredStrategy`` (it all-reduces nested
batches and scalar logs with calls the collective strategy rejects), so multi-worker runs
use ``strategy.run`` directly: per-replica loss scaled by the global batch, gradients
all-reduced by the optimizer, BN statistics and metrics kept in mirrored variables.
"""

from __future__ import annotations

from ..backend import load_tensorflow
from ..config import TrainConfig
from .validation import epoch_logs


def _train_step(model, config: TrainConfig, strategy):
    """A compiled function: one distributed step on the iterator's next batch -> (loss, correct)."""
    load_tensorflow()
    import keras
    import tensorflow as tf

    loss_fn = keras.losses.CategoricalCrossentropy(label_smoothing=config.label_smoothing, reduction=None)
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

    return train_step


def fit_multi_worker(
    model, config: TrainConfig, strategy, train_ds, val_data, steps_per_epoch: int, callbacks: list
) -> dict[str, list[float]]:
    """Train ``model`` for ``config.epochs`` (or until a callback stops it); the per-epoch history."""
    train_step = _train_step(model, config, strategy)
    dist = iter(strategy.experimental_distribute_dataset(train_ds.repeat()))
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
            logs.update(epoch_logs(model, val_data, config.label_smoothing))
        for cb in callbacks:
            cb.on_epoch_end(epoch, logs)
        for k, v in logs.items():
            history.setdefault(k, []).append(float(v))
        if model.stop_training:
            break
    for cb in callbacks:
        cb.on_train_end()
    return history
