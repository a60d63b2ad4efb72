"""Every figure the notebooks show. Each function returns a matplotlib Figure.

Kept small and free of notebook state so the tests can call them directly; :func:`save`
writes a figure into a run's output folder as PNG, so every picture a notebook shows is
also a file beside the run's other outputs.
"""

from .base import figure_path, save
from .data_figures import (
    bounding_boxes,
    class_balance,
    distinguishing_features,
    embedding,
    lookalikes,
    mean_images,
    pca_2d,
    pixel_histogram,
    quality_drift,
    sample_grid,
)
from .training_figures import accuracy_vs_time, confusion_matrix, misclassified, per_class_scores, training_history

__all__ = [
    "accuracy_vs_time",
    "bounding_boxes",
    "class_balance",
    "confusion_matrix",
    "distinguishing_features",
    "embedding",
    "figure_path",
    "lookalikes",
    "mean_images",
    "misclassified",
    "pca_2d",
    "per_class_scores",
    "pixel_histogram",
    "quality_drift",
    "sample_grid",
    "save",
    "training_history",
]
