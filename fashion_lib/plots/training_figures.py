"""Figures about a trained model: history, confusion matrix, mistakes, per-class scores, accuracy vs time."""

from __future__ import annotations

import numbers
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ..classes import CLASS_NAMES, NUM_CLASSES
from ..errors import wrong
from .base import _array, _images, _off, _plt

SCORES = ("precision", "recall", "f1")
MISTAKE = ("index", "true", "predicted", "confidence")


def training_history(history: dict[str, Sequence[float]], *, label_smoothing: float | None = None):
    """Loss and accuracy per epoch, train vs validation, in one figure (a dict, or history.csv's DataFrame).

    ``label_smoothing`` is the run's (``run.result.config.label_smoothing``): the loss axis says
    cross-entropy at 0, label-smoothed cross-entropy above; not given, the training default's (smoothed)."""
    if label_smoothing is not None and not (
        isinstance(label_smoothing, numbers.Real) and not isinstance(label_smoothing, bool) and 0 <= label_smoothing < 1
    ):
        expected = "a number in [0, 1), such as run.result.config.label_smoothing"
        raise wrong("plots.training_history: label_smoothing", label_smoothing, expected)
    if not (isinstance(history, Mapping) or type(history).__name__ == "DataFrame") or not all(
        key in history for key in ("loss", "accuracy")
    ):
        raise wrong(
            "plots.training_history: history", history, "per-epoch 'loss' and 'accuracy', such as run.result.history"
        )
    plt = _plt()
    from matplotlib.ticker import MaxNLocator

    fig, (loss_ax, acc_ax) = plt.subplots(1, 2, figsize=(10, 3.4))
    epochs = np.arange(1, len(history["loss"]) + 1)
    loss = "cross-entropy" if label_smoothing == 0 else "label-smoothed cross-entropy"
    units = {"loss": f"loss ({loss})", "accuracy": "accuracy (share of images right)"}
    for key, ax in (("loss", loss_ax), ("accuracy", acc_ax)):
        ax.plot(epochs, history[key], "o-", label="train")
        if f"val_{key}" in history:
            ax.plot(epochs, history[f"val_{key}"], "o-", label="validation")
        ax.set_xlabel("epoch")
        ax.set_ylabel(units[key])
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # epochs are whole: no 2.5 ticks
        ax.set_title(key)
        ax.grid(alpha=0.3)
        ax.legend()
    fig.tight_layout()
    return fig


def confusion_matrix(matrix: np.ndarray | list[list[int]]):
    """Heatmap of the confusion matrix with class names; rows are true classes."""
    m = _array(matrix)
    if m is None or m.shape != (NUM_CLASSES, NUM_CLASSES):
        raise wrong(
            "plots.confusion_matrix: matrix", matrix, "a 10x10 matrix of counts, such as run.evaluation.confusion"
        )
    plt = _plt()
    fig, ax = plt.subplots(figsize=(7.5, 6.5))
    im = ax.imshow(m, cmap="Blues")
    ax.set_xticks(range(NUM_CLASSES), CLASS_NAMES, rotation=45, ha="right")
    ax.set_yticks(range(NUM_CLASSES), CLASS_NAMES)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    threshold = m.max() / 2
    for i in range(NUM_CLASSES):
        for j in range(NUM_CLASSES):
            if m[i, j]:
                ax.text(
                    j,
                    i,
                    str(m[i, j]),
                    ha="center",
                    va="center",
                    fontsize=7,
                    color="white" if m[i, j] > threshold else "black",
                )
    fig.colorbar(im, ax=ax, fraction=0.046, label="test images")
    ax.set_title("Confusion matrix (test set)")
    fig.tight_layout()
    return fig


def misclassified(images: np.ndarray, errors: Sequence[dict[str, Any]], *, count: int = 24, columns: int = 8):
    """A grid of misclassified images with true label, prediction and confidence.

    ``errors`` are dicts with ``index``, ``true``, ``predicted`` and ``confidence``,
    most confident mistakes first.
    """
    images = _images(images, "plots.misclassified")
    if isinstance(errors, (str, Mapping)) or not isinstance(errors, (Sequence, np.ndarray)):
        shown = None
    else:
        shown = list(errors)[:count]
    if shown is None or not all(isinstance(e, Mapping) and all(k in e for k in MISTAKE) for e in shown):
        expected = "dicts of index, true, predicted and confidence, such as run.evaluation.to_dict()['misclassified']"
        raise wrong("plots.misclassified: errors", errors, expected)
    beyond = [e["index"] for e in shown if not 0 <= e["index"] < len(images)]
    if beyond:
        raise wrong(
            "plots.misclassified: images",
            images,
            f"the images evaluated (run.data.test.images): errors name image {beyond[0]}",
        )
    plt = _plt()
    rows = max(1, -(-len(shown) // columns))
    fig, axes = plt.subplots(rows, columns, figsize=(columns * 1.35, rows * 1.9 + 0.4), squeeze=False)
    for ax in axes.ravel():
        _off(ax)
        ax.axis("off")
    for ax, e in zip(axes.ravel(), shown):
        ax.axis("on")
        ax.imshow(images[e["index"]], cmap="gray_r", vmin=0, vmax=255)
        ax.set_title(f"{CLASS_NAMES[e['true']]}\n→ {CLASS_NAMES[e['predicted']]} {e['confidence']:.0%}", fontsize=7)
    fig.suptitle("Misclassified test images (true → predicted, confidence)")
    fig.tight_layout(pad=0.3, rect=(0, 0, 1, 1 - 0.4 / (rows * 1.9 + 0.4)))
    return fig


def per_class_scores(per_class: dict[str, dict[str, float]]):
    """Precision, recall and F1 per class as grouped bars."""
    if (
        not isinstance(per_class, Mapping)
        or not per_class
        or not all(isinstance(s, Mapping) and all(k in s for k in SCORES) for s in per_class.values())
    ):
        raise wrong(
            "plots.per_class_scores: per_class", per_class, "scores by class name, such as run.metrics()['per_class']"
        )
    plt = _plt()
    names = list(per_class)
    x = np.arange(len(names))
    fig, ax = plt.subplots(figsize=(9, 3.2))
    for k, metric in enumerate(SCORES):
        ax.bar(x + (k - 1) * 0.27, [per_class[n][metric] for n in names], 0.27, label=metric)
    ax.set_xticks(x, names, rotation=30, ha="right")
    ax.set_xlabel("class")
    ax.set_ylabel("score (0 to 1)")
    low = min(min(per_class[n][m] for m in SCORES) for n in names)
    ax.set_ylim(max(0.0, low - 0.05), 1.0)
    ax.set_title("Per-class scores (test set)")
    ax.legend(ncol=3, fontsize=8)
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    return fig


def accuracy_vs_time(runs: Sequence[dict[str, Any]], *, budget_s: float | None = 600.0, target: float | None = 0.943):
    """Test accuracy against training seconds, one curve per recipe (``runs``: dicts with
    ``recipe`` and ``points``, a list of ``(seconds, accuracy)`` after each epoch), with the
    time budget (vertical) and the accuracy target (horizontal) as dashed grey lines."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(7.5, 4.2))
    for run in runs:
        seconds, accuracy = zip(*[(p[0], p[1]) for p in run["points"]]) if run["points"] else ((), ())
        ax.plot(seconds, np.asarray(accuracy) * 100, "o-", ms=3, label=run["recipe"])
        if seconds:
            # the delivered model's score where the run knows it (best validation epoch), else the last point
            final = run.get("final_test") or accuracy[-1]
            ax.annotate(
                f"{final * 100:.2f} %",
                (seconds[-1], accuracy[-1] * 100),
                textcoords="offset points",
                xytext=(4, -10),
                fontsize=8,
            )
    finals = [run["points"][-1][1] for run in runs if run["points"]]
    if finals and min(finals) > 0.86:  # zoom on the part that matters; early epochs fall off the bottom
        top = max([p[1] for run in runs for p in run["points"]] + [target or 0])
        ax.set_ylim(85, top * 100 + 0.5)
    if budget_s:
        label = f" {budget_s / 60:g} min" if budget_s % 60 == 0 else f" {budget_s:g} s"
        ax.axvline(budget_s, color="grey", ls="--", lw=1)
        ax.text(budget_s, ax.get_ylim()[1], label, color="grey", va="top", fontsize=8)  # clear of the legend
    if target:
        ax.axhline(target * 100, color="grey", ls=":", lw=1)
        ax.text(ax.get_xlim()[0], target * 100, f" target {target * 100:.1f} %", color="grey", va="bottom", fontsize=8)
    ax.set_xlabel("training time (s, wall clock, 2 CPU cores)")
    ax.set_ylabel("test accuracy (%)")
    ax.set_title("Fashion-MNIST: test accuracy against training time")
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    return fig
