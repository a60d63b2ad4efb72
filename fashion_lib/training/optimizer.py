"""The optimizer with its warm-up + cosine learning-rate schedule, and seeding."""

from __future__ import annotations

from ..backend import load_tensorflow
from ..config import TrainConfig


def make_optimizer(config: TrainConfig, total_steps: int):
    """``config.optimizer`` over a schedule that warms up linearly, then decays along a cosine."""
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


def current_learning_rate(optimizer) -> float:
    """The learning rate the optimizer uses at its current step (schedules evaluated)."""
    rate = getattr(optimizer, "_learning_rate", None)
    return float(optimizer.learning_rate if not callable(rate) else rate(optimizer.iterations))


def seed_everything(config: TrainConfig) -> None:
    """Seed Python, numpy and TensorFlow; with ``deterministic`` also force deterministic ops."""
    load_tensorflow()
    import keras
    import tensorflow as tf

    keras.utils.set_random_seed(config.seed)
    if config.deterministic:
        tf.config.experimental.enable_op_determinism()
