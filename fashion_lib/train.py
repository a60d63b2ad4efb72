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

The parts live in :mod:`fashion_lib.training`, one concern each; this module puts them together.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .backend import load_tensorflow
from .config import TrainConfig
from .csvio import Dataset
from .errors import ConfigError
from .runfolder import CONFIG_FILE, TRAIN_RESULT_FILE
from .training.callbacks import standard_callbacks
from .training.inputs import flip_batch, make_dataset, split_validation, translate_batch
from .training.loop import fit_multi_worker
from .training.optimizer import make_optimizer, seed_everything
from .training.strategy import is_chief, is_multi_worker, strategy_from_environment
from .training.validation import score_validation

__all__ = [
    "TrainResult",
    "flip_batch",
    "is_chief",
    "make_dataset",
    "seed_everything",
    "split_validation",
    "strategy_from_environment",
    "train",
    "translate_batch",
]


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


@dataclass
class _Inputs:
    """The split and its tf.data pipelines."""

    fit_data: Dataset
    val_data: Dataset | None
    train_ds: Any
    val_ds: Any
    steps_per_epoch: int


def _inputs(config: TrainConfig, train: Dataset, strategy) -> _Inputs:
    fit_data, val_data = split_validation(train, config)
    if len(fit_data) == 0:
        raise ConfigError("no training images: check limit and validation_size")
    image_dtype = "float32" if is_multi_worker(strategy) else "uint8"
    train_ds = make_dataset(fit_data, config, training=True, image_dtype=image_dtype)
    val_ds = (
        make_dataset(val_data, config, training=False, batch_size=1024, image_dtype=image_dtype) if val_data else None
    )
    return _Inputs(fit_data, val_data, train_ds, val_ds, max(1, len(fit_data) // config.batch_size))


def _compiled_model(config: TrainConfig, strategy, total_steps: int):
    """A fresh model under the strategy's scope, compiled with the optimizer and smoothed loss."""
    load_tensorflow()
    import keras

    from .model import build_model

    with strategy.scope():
        model = build_model(config, sync_batch_norm=strategy.num_replicas_in_sync > 1)
        model.compile(
            optimizer=make_optimizer(config, total_steps),
            loss=keras.losses.CategoricalCrossentropy(label_smoothing=config.label_smoothing),
            metrics=["accuracy"],
        )
    return model


def _fit(model, config: TrainConfig, strategy, inputs: _Inputs, callbacks: list) -> dict[str, list[float]]:
    if is_multi_worker(strategy):  # Keras 3.15 fit() cannot run under MultiWorkerMirroredStrategy
        return fit_multi_worker(
            model, config, strategy, inputs.train_ds, inputs.val_data, inputs.steps_per_epoch, callbacks
        )
    return model.fit(
        inputs.train_ds,
        epochs=config.epochs,
        validation_data=inputs.val_ds,
        callbacks=callbacks,
        verbose=0,
        shuffle=False,
    ).history  # tf.data shuffles


def _announce(config: TrainConfig, inputs: _Inputs, model, strategy) -> None:
    n_val = len(inputs.val_data) if inputs.val_data else 0
    print(
        f"training on {len(inputs.fit_data):,} images ({n_val:,} held out for validation), "
        f"{config.epochs} epochs of {inputs.steps_per_epoch} steps, batch {config.batch_size}, "
        f"{model.count_params():,} parameters{_replicas(strategy.num_replicas_in_sync)}"
        + (", computed in bfloat16" if config.precision != "float32" else ""),
        flush=True,
    )


def _replicas(count: int) -> str:
    """How many copies of the model train in step, where more than one (one per worker or GPU); before, every run
    said "1 replica(s)", jargon to a notebook's reader."""
    return "" if count == 1 else f", {count} copies of the model in step (one per worker or GPU)"


def _validate(model, config: TrainConfig, val_data: Dataset, strategy) -> dict[str, float]:
    """The trained network on the split, and the model as shipped (test-time views averaged inside)."""
    from .model import export_model, tta_views

    shipped = (lambda: export_model(model, config)) if len(tta_views(config)) > 1 else None
    return score_validation(model, val_data, multi_worker=is_multi_worker(strategy), shipped=shipped)


def _report(validation: dict[str, float], views: int, best_epoch: int | None, seconds: float) -> None:
    tta = f" ({views} test-time views averaged: {validation['accuracy_tta']:.4f})" if views > 1 else ""
    print(
        f"best epoch {best_epoch}: validation accuracy {validation['accuracy']:.4f}{tta}; trained in {seconds:.0f}s",
        flush=True,
    )


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
    from .model import tta_views

    config = config.validate().resolved()  # "auto" precision: this machine's, recorded as such
    output_dir = Path(output_dir) if output_dir is not None else None
    strategy = strategy or strategy_from_environment()
    write = is_chief(strategy) and output_dir is not None
    seed_everything(config)
    inputs = _inputs(config, train, strategy)  # a split that leaves nothing to train on: before any file
    if write:
        output_dir.mkdir(parents=True, exist_ok=True)
        (output_dir / CONFIG_FILE).write_text(config.to_json())
    model = _compiled_model(config, strategy, inputs.steps_per_epoch * config.epochs)
    t0 = [time.perf_counter()]
    cbs, record, early = standard_callbacks(
        config, output_dir, write, verbose, t0, validation=inputs.val_ds is not None, extra=callbacks
    )
    if verbose:
        _announce(config, inputs, model, strategy)
    t0[0] = time.perf_counter()
    fit_history = _fit(model, config, strategy, inputs, cbs)
    train_seconds = time.perf_counter() - t0[0]

    history = {k: [float(v) for v in vals] for k, vals in fit_history.items()}
    history["lr"] = [r["lr"] for r in record.rows]
    history["seconds"] = [r["seconds"] for r in record.rows]
    best_epoch = (early.best_epoch + 1) if early is not None and early.best_weights is not None else None
    validation: dict[str, float] = {}
    if inputs.val_data is not None:
        validation = _validate(model, config, inputs.val_data, strategy)
        if verbose:
            _report(validation, len(tta_views(config)), best_epoch, train_seconds)
    result = TrainResult(model, history, len(record.rows), train_seconds, best_epoch, validation, config)
    if write:
        (output_dir / TRAIN_RESULT_FILE).write_text(json.dumps(result.to_dict(), indent=1))
    return result
