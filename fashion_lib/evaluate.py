"""Evaluate a model on a labelled set: accuracy, loss, per-class metrics, confusion, mistakes.

Metrics are plain numpy (no scikit-learn). The shipped ``clf.keras`` already averages over
its test-time views (see :func:`fashion_lib.model.export_model`), so it is scored exactly as a
user would run it: ``model.predict(images)`` with Keras' default batch size, argmax.
``tta=True`` additionally averages each image with its mirror in numpy (for bare trunks).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .classes import CLASS_NAMES, NUM_CLASSES
from .csvio import Dataset
from .errors import ModelError


def predict_proba(model, images: np.ndarray, *, tta: bool = False, batch_size: int | None = None) -> np.ndarray:
    """``N x 10`` float32 class probabilities for uint8 ``N x 28 x 28`` images.

    ``batch_size=None``: Keras' default, i.e. exactly what a plain ``model.predict(images)`` gives.
    A model whose outputs are not class probabilities is a :class:`ModelError` naming it.
    """
    images = np.asarray(images)
    if len(images) == 0:
        return np.zeros((0, NUM_CLASSES), np.float32)
    probs = _run(model, images, batch_size)
    if tta:
        probs = (probs + _run(model, np.ascontiguousarray(images[:, :, ::-1]), batch_size)) / 2
    return probs


def _run(model, images: np.ndarray, batch_size: int | None) -> np.ndarray:
    """``model.predict`` on ``images``, checked to be one row of 10 class probabilities per image."""
    from .model import plain

    source = getattr(model, "fashion_source", None) or f"model {getattr(model, 'name', type(model).__name__)}"
    try:
        probs = np.asarray(model.predict(images, batch_size=batch_size, verbose=0), dtype=np.float32)
    except (ValueError, TypeError) as exc:  # a model that cannot take N x 28 x 28 images
        detail = plain(exc)[:200]
        raise ModelError(f"{source}: cannot classify 28x28 images ({type(exc).__name__}: {detail})") from None
    if probs.shape != (len(images), NUM_CLASSES):
        raise ModelError(f"{source}: gives outputs of shape {probs.shape}; expected {NUM_CLASSES} class probabilities")
    expected = f"expected a softmax over {NUM_CLASSES} classes, each row summing to 1"
    if not np.isfinite(probs).all():
        raise ModelError(f"{source}: outputs are not class probabilities (NaN or infinite values); {expected}")
    sums = probs.sum(axis=1)
    if probs.min() < -1e-4 or probs.max() > 1 + 1e-4 or np.abs(sums - 1).max() > 1e-3:
        raise ModelError(
            f"{source}: outputs are not class probabilities (values {probs.min():.4g} to {probs.max():.4g}, "
            f"rows summing to {sums.min():.4g} to {sums.max():.4g}); {expected}"
        )
    return probs


@dataclass
class Evaluation:
    accuracy: float
    loss: float  # mean cross-entropy (no label smoothing)
    precision: np.ndarray  # per class, shape (10,)
    recall: np.ndarray
    f1: np.ndarray
    support: np.ndarray  # true images per class
    confusion: np.ndarray  # 10 x 10 ints: rows true class, columns predicted
    misclassified: np.ndarray  # indices into the evaluated set
    true: np.ndarray  # true labels of the misclassified images
    predicted: np.ndarray  # predicted labels of the misclassified images
    confidence: np.ndarray  # probability given to the (wrong) prediction
    tta: bool = False
    class_names: tuple[str, ...] = CLASS_NAMES

    @property
    def macro_f1(self) -> float:
        return float(self.f1.mean())

    def to_dict(self, max_misclassified: int | None = 100) -> dict[str, Any]:
        order = np.argsort(-self.confidence)[:max_misclassified]  # the most confident mistakes first
        return {
            "accuracy": float(self.accuracy),
            "loss": float(self.loss),
            "tta": bool(self.tta),
            "macro_f1": self.macro_f1,
            "per_class": {
                name: {"precision": float(p), "recall": float(r), "f1": float(f), "support": int(s)}
                for name, p, r, f, s in zip(self.class_names, self.precision, self.recall, self.f1, self.support)
            },
            "confusion_matrix": self.confusion.astype(int).tolist(),
            "misclassified_count": int(len(self.misclassified)),
            "misclassified": [
                {
                    "index": int(self.misclassified[i]),
                    "true": int(self.true[i]),
                    "predicted": int(self.predicted[i]),
                    "confidence": round(float(self.confidence[i]), 6),
                }
                for i in order
            ],
        }


def test_metrics(evaluation: Evaluation) -> dict[str, Any]:
    """Test-set numbers under the names the notebooks, README and lineage use."""
    scores = evaluation.to_dict(max_misclassified=0)
    scores.pop("misclassified")
    return {"test_accuracy": scores.pop("accuracy"), "test_loss": scores.pop("loss"), **scores}


def report(evaluation: Evaluation) -> str:
    """A short text report of an evaluation."""
    lines = [
        f"test accuracy {evaluation.accuracy:.4f}, loss {evaluation.loss:.4f}"
        f"{' (flip TTA)' if evaluation.tta else ''}, {len(evaluation.misclassified)} mistakes",
        f"{'class':<12} {'precision':>9} {'recall':>7} {'f1':>6}",
    ]
    for name, p, r, f in zip(evaluation.class_names, evaluation.precision, evaluation.recall, evaluation.f1):
        lines.append(f"{name:<12} {p:>9.3f} {r:>7.3f} {f:>6.3f}")
    return "\n".join(lines)


CHANCE_FACTOR = 1.5  # a test accuracy at most this many times always guessing one class's is chance level


def chance_warning(confusion: Any, class_names: tuple[str, ...] = CLASS_NAMES) -> str | None:
    """One warning line when a model scored at chance level on a test set, else None.

    ``confusion``: rows true class, columns predicted (an Evaluation's, or ``metrics.json``'s
    ``confusion_matrix``). Chance level: every image given one class, or an accuracy at most
    ``CHANCE_FACTOR`` times what always guessing the commonest class scores (10 % on the balanced
    official test set, so 15 %). Anything that is not a 10 x 10 matrix of counts is no verdict (None).
    """
    try:
        counts = np.asarray(confusion, dtype=np.float64)
    except (TypeError, ValueError):
        return None
    total = counts.sum() if counts.shape == (NUM_CLASSES, NUM_CLASSES) else 0.0
    if not (np.isfinite(total) and total > 0 and counts.min() >= 0):
        return None
    accuracy, guessing = np.trace(counts) / total, counts.sum(axis=1).max() / total
    predicted = np.flatnonzero(counts.sum(axis=0))
    if len(predicted) == 1:
        why = f"every image predicted as {class_names[predicted[0]]}"
    elif accuracy <= CHANCE_FACTOR * guessing:
        why = f"always guessing one class scores {guessing * 100:.1f} %"
    else:
        return None
    return (
        f"warning: test accuracy {accuracy * 100:.1f} % is chance level ({why}); "
        "this model has learned nothing: train longer or on more data"
    )


def metrics_from_probabilities(
    probs: np.ndarray, labels: np.ndarray, *, tta: bool = False, class_names: tuple[str, ...] = CLASS_NAMES
) -> Evaluation:
    labels = np.asarray(labels).astype(np.int64)
    predicted = probs.argmax(axis=1)
    n = len(labels)
    confusion = np.zeros((NUM_CLASSES, NUM_CLASSES), np.int64)
    np.add.at(confusion, (labels, predicted), 1)
    tp = np.diag(confusion).astype(np.float64)
    pred_count = confusion.sum(axis=0)
    support = confusion.sum(axis=1)
    precision = np.divide(tp, pred_count, out=np.zeros_like(tp), where=pred_count > 0)
    recall = np.divide(tp, support, out=np.zeros_like(tp), where=support > 0)
    denom = precision + recall
    f1 = np.divide(2 * precision * recall, denom, out=np.zeros_like(tp), where=denom > 0)
    wrong = np.flatnonzero(predicted != labels)
    loss = float(np.mean(-np.log(np.clip(probs[np.arange(n), labels], 1e-7, 1.0)))) if n else float("nan")
    return Evaluation(
        accuracy=float(np.mean(predicted == labels)) if n else float("nan"),
        loss=loss,
        precision=precision,
        recall=recall,
        f1=f1,
        support=support,
        confusion=confusion,
        misclassified=wrong,
        true=labels[wrong],
        predicted=predicted[wrong],
        confidence=probs[wrong, predicted[wrong]].astype(np.float64),
        tta=tta,
        class_names=tuple(class_names),
    )


def evaluate(model, test: Dataset, *, tta: bool = False, batch_size: int | None = None) -> Evaluation:
    """Evaluate ``model`` on ``test`` (uint8 images, labels 0..9)."""
    images = np.asarray(test.images)
    if images.ndim != 3 or images.shape[1:] != (28, 28) or images.dtype != np.uint8:
        raise ModelError(f"test images must be uint8 N x 28 x 28, got {images.dtype} {images.shape}")
    if len(images) != len(test.labels):
        raise ModelError(f"{len(images)} test images but {len(test.labels)} labels")
    probs = predict_proba(model, images, tta=tta, batch_size=batch_size)
    return metrics_from_probabilities(probs, test.labels, tta=tta, class_names=tuple(test.class_names))
