"""Scoring on the validation split, with :mod:`fashion_lib.evaluate`'s metric code."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..csvio import Dataset
from ..evaluate import metrics_from_probabilities, predict_proba


def local_predict(model, images: np.ndarray, *, tta: bool = False, batch_size: int = 1024) -> np.ndarray:
    """Probabilities computed on this worker alone (every worker holds the same weights)."""

    def run(x):
        return np.concatenate(
            [np.asarray(model(x[i : i + batch_size], training=False)) for i in range(0, len(x), batch_size)]
        )

    probs = run(images)
    return (probs + run(np.ascontiguousarray(images[:, :, ::-1]))) / 2 if tta else probs


def smoothed_loss(probs: np.ndarray, labels: np.ndarray, label_smoothing: float) -> float:
    """Mean cross-entropy against label-smoothed targets (what Keras reports as ``val_loss``)."""
    smooth = np.full_like(probs, label_smoothing / 10)
    smooth[np.arange(len(labels)), labels] += 1 - label_smoothing
    return float(np.mean(-(smooth * np.log(np.clip(probs, 1e-7, 1))).sum(1)))


def epoch_logs(model, val_data: Dataset, label_smoothing: float) -> dict[str, float]:
    """``val_loss`` and ``val_accuracy`` at the end of an epoch, computed on this worker."""
    probs = local_predict(model, val_data.images)
    labels = val_data.labels.astype(np.int64)
    scores = metrics_from_probabilities(probs, labels)
    return {"val_loss": smoothed_loss(probs, labels, label_smoothing), "val_accuracy": scores.accuracy}


def score_validation(
    model, val_data: Dataset, *, multi_worker: bool, shipped: Callable[[], Any] | None = None
) -> dict[str, float]:
    """Accuracy and loss of the trained network on the split; ``accuracy_tta`` of the model as
    shipped (its test-time views averaged inside) when ``shipped`` (which builds it) is given."""
    predict = local_predict if multi_worker else predict_proba
    scores = metrics_from_probabilities(predict(model, val_data.images, tta=False), val_data.labels)
    validation = {"accuracy": scores.accuracy, "loss": scores.loss}
    if shipped is not None:
        shipped_scores = metrics_from_probabilities(predict(shipped(), val_data.images, tta=False), val_data.labels)
        validation["accuracy_tta"] = shipped_scores.accuracy
    return validation
