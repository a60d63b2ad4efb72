"""Figures about the data: samples, class balance, pixel statistics, embeddings, look-alikes, drift."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from ..classes import CLASS_NAMES, NUM_CLASSES
from ..errors import wrong
from .base import _classes, _enough, _images, _labels, _off, _plt

BRIGHTNESS = "mean pixel value (0-255)"  # the profiles' y axis


def sample_grid(images: np.ndarray, labels: np.ndarray, *, per_class: int = 10, seed: int = 0):
    """Random images, one class per row, labelled (the article's first figure)."""
    images = _images(images, "plots.sample_grid")
    labels = _labels(labels, "plots.sample_grid", len(images))
    _enough(labels, range(NUM_CLASSES), per_class, "plots.sample_grid")
    plt = _plt()
    rng = np.random.default_rng(seed)
    fig, axes = plt.subplots(NUM_CLASSES, per_class, figsize=(per_class * 0.75, NUM_CLASSES * 0.8))
    for c in range(NUM_CLASSES):
        picks = rng.choice(np.flatnonzero(labels == c), size=per_class, replace=False)
        for j, i in enumerate(picks):
            ax = axes[c, j]
            ax.imshow(images[i], cmap="gray_r", vmin=0, vmax=255)
            _off(ax)
        axes[c, 0].set_ylabel(CLASS_NAMES[c], rotation=0, ha="right", va="center", fontsize=9)
    fig.suptitle(f"{per_class} random images per class", y=0.995)
    fig.tight_layout(pad=0.2)
    return fig


def class_balance(splits: dict[str, np.ndarray]):
    """Images per class in each split (e.g. ``{"train": labels, "test": labels}``)."""
    if not isinstance(splits, Mapping) or not splits:
        raise wrong("plots.class_balance: splits", splits, "a dict of labels by split, such as {'train': train.labels}")
    splits = {name: _labels(v, "plots.class_balance", name=f"splits[{name!r}]") for name, v in splits.items()}
    plt = _plt()
    fig, ax = plt.subplots(figsize=(8, 3))
    width = 0.8 / len(splits)
    x = np.arange(NUM_CLASSES)
    for k, (name, labels) in enumerate(splits.items()):
        counts = np.bincount(labels, minlength=NUM_CLASSES)
        ax.bar(x + k * width - 0.4 + width / 2, counts, width, label=f"{name} ({len(labels):,})")
    ax.set_xticks(x, CLASS_NAMES, rotation=30, ha="right")
    ax.set_xlabel("class")
    ax.set_ylabel("images")
    ax.set_title("Class balance")
    ax.legend()
    fig.tight_layout()
    return fig


def mean_images(images: np.ndarray, labels: np.ndarray):
    """The mean image of each class."""
    images = _images(images, "plots.mean_images")
    labels = _labels(labels, "plots.mean_images", len(images))
    plt = _plt()
    fig, axes = plt.subplots(1, NUM_CLASSES, figsize=(NUM_CLASSES * 1.1, 1.6))
    for c, ax in enumerate(axes):
        ax.imshow(images[labels == c].mean(axis=0), cmap="gray_r", vmin=0, vmax=255)
        ax.set_title(CLASS_NAMES[c], fontsize=8)
        _off(ax)
    fig.suptitle("Mean image per class", y=1.02)
    fig.tight_layout(pad=0.3)
    return fig


def pixel_histogram(images: np.ndarray):
    """Distribution of pixel intensities (log scale: most pixels are background)."""
    images = _images(images, "plots.pixel_histogram")
    plt = _plt()
    pixels = images if images.dtype == np.uint8 else np.rint(images).astype(np.uint8)
    counts = np.bincount(pixels.ravel(), minlength=256)
    fig, ax = plt.subplots(figsize=(7, 2.6))
    ax.bar(np.arange(256), counts, width=1.0)
    ax.set_yscale("log")
    ax.set_xlabel("pixel value (0 = background, 255 = brightest)")
    ax.set_ylabel("pixels (log scale)")
    zero = counts[0] / counts.sum()
    ax.set_title(f"Pixel intensities: {zero:.0%} of all pixels are exactly 0")
    fig.tight_layout()
    return fig


def pca_2d(images: np.ndarray, *, sample: int = 3000, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(indices, 2-D coordinates, explained variance ratio) of a PCA on a random sample."""
    rng = np.random.default_rng(seed)
    idx = rng.choice(len(images), size=min(sample, len(images)), replace=False)
    x = images[idx].reshape(len(idx), -1).astype(np.float32) / 255.0
    x -= x.mean(axis=0)
    _, s, vt = np.linalg.svd(x, full_matrices=False)
    explained = (s**2) / (s**2).sum()
    return idx, x @ vt[:2].T, explained[:2]


def embedding(images: np.ndarray, labels: np.ndarray, *, sample: int = 3000, seed: int = 0):
    """A 2-D PCA embedding of a sample, coloured by class."""
    images = _images(images, "plots.embedding")
    labels = _labels(labels, "plots.embedding", len(images))
    plt = _plt()
    idx, xy, explained = pca_2d(images, sample=sample, seed=seed)
    fig, ax = plt.subplots(figsize=(8.2, 5.5))
    cmap = plt.get_cmap("tab10")
    for c in range(NUM_CLASSES):
        m = labels[idx] == c
        ax.scatter(xy[m, 0], xy[m, 1], s=4, alpha=0.6, color=cmap(c), label=CLASS_NAMES[c])
    ax.set_xlabel(f"PC 1 ({explained[0]:.0%} of variance)")
    ax.set_ylabel(f"PC 2 ({explained[1]:.0%} of variance)")
    ax.set_title(f"PCA of {len(idx):,} images")
    ax.legend(markerscale=3, fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.tight_layout()
    return fig


def bounding_boxes(images: np.ndarray, threshold: int = 30) -> np.ndarray:
    """Per image (height, width) of the box around pixels brighter than ``threshold``."""
    on = images > threshold
    rows, cols = on.any(axis=2), on.any(axis=1)

    def extent(mask: np.ndarray) -> np.ndarray:
        first = mask.argmax(axis=1)
        last = mask.shape[1] - 1 - mask[:, ::-1].argmax(axis=1)
        return np.where(mask.any(axis=1), last - first + 1, 0)

    return np.stack([extent(rows), extent(cols)], axis=1)


def distinguishing_features(images: np.ndarray, labels: np.ndarray):
    """Three cues a classifier can use, each with a picture and a measurement.

    Trousers have two legs (a dark gap down the middle of the lower half), shoes have
    soles (mass in a wide band along the bottom, little at the top), bags are boxy (width / height
    about 0.9 to 1.5 for half of them, between narrow trousers and dresses and long sneakers).
    """
    images = _images(images, "plots.distinguishing_features")
    labels = _labels(labels, "plots.distinguishing_features", len(images))
    plt = _plt()
    fig, axes = plt.subplots(2, 3, figsize=(10, 6))
    trouser, sneaker, boot, bag = 1, 7, 9, 8
    # two legs: column profile of the lower half
    mean = images[labels == trouser].mean(axis=0)
    axes[0, 0].imshow(mean, cmap="gray_r")
    axes[0, 0].set_title("Trouser: two legs")
    for c in (trouser, 3, 0):
        axes[1, 0].plot(images[labels == c][:, 16:, :].mean(axis=(0, 1)), label=CLASS_NAMES[c])
    axes[1, 0].set_title("mean brightness across the lower half")
    axes[1, 0].set_xlabel("column (left to right)")
    axes[1, 0].set_ylabel(BRIGHTNESS)
    axes[1, 0].legend(fontsize=8)
    # soles: row profile
    axes[0, 1].imshow(images[labels == sneaker].mean(axis=0), cmap="gray_r")
    axes[0, 1].set_title("Sneaker: a sole along its length")
    for c in (sneaker, boot, 5, 0):
        axes[1, 1].plot(images[labels == c].mean(axis=(0, 2)), label=CLASS_NAMES[c])
    axes[1, 1].set_title("mean brightness per row")
    axes[1, 1].set_xlabel("row (top to bottom)")
    axes[1, 1].set_ylabel(BRIGHTNESS)
    axes[1, 1].legend(fontsize=8)
    # bags are boxy: box aspect ratio
    axes[0, 2].imshow(images[labels == bag].mean(axis=0), cmap="gray_r")
    axes[0, 2].set_title("Bag: a boxy shape")
    boxes = bounding_boxes(images)
    aspect = boxes[:, 1] / np.maximum(boxes[:, 0], 1)
    for c in (bag, trouser, 3, sneaker):
        axes[1, 2].hist(aspect[labels == c], bins=np.linspace(0, 2.5, 40), alpha=0.5, label=CLASS_NAMES[c])
    axes[1, 2].set_title("bounding box width / height")
    axes[1, 2].set_xlabel("width / height (1: square)")
    axes[1, 2].set_ylabel("images")
    axes[1, 2].legend(fontsize=8)
    for ax in axes[0]:
        _off(ax)
    fig.tight_layout()
    return fig


def lookalikes(
    images: np.ndarray, labels: np.ndarray, classes: Sequence[int] = (0, 2, 4, 6), *, per_class: int = 8, seed: int = 1
):
    """Classes that look alike, side by side (default: T-shirt, pullover, coat, shirt)."""
    images = _images(images, "plots.lookalikes")
    labels = _labels(labels, "plots.lookalikes", len(images))
    classes = _classes(classes, "plots.lookalikes")
    _enough(labels, classes, per_class, "plots.lookalikes")
    plt = _plt()
    rng = np.random.default_rng(seed)
    fig, axes = plt.subplots(len(classes), per_class, figsize=(per_class * 0.9, len(classes) * 1.0))
    for r, c in enumerate(classes):
        for j, i in enumerate(rng.choice(np.flatnonzero(labels == c), size=per_class, replace=False)):
            axes[r, j].imshow(images[i], cmap="gray_r", vmin=0, vmax=255)
            _off(axes[r, j])
        axes[r, 0].set_ylabel(CLASS_NAMES[c], rotation=0, ha="right", va="center", fontsize=9)
    fig.suptitle("Look-alikes: tops differ in sleeves, collars and buttons", y=1.0)
    fig.tight_layout(pad=0.2)
    return fig


_DRIFT_ORDER = ("mean intensity", "ink area", "bbox height", "bbox width", "row profile", "column profile")


def quality_drift(drift: dict[str, dict[str, dict[str, float]]], fail_at: float = 0.1):
    """Per-class drift against the reference, one heatmap per file: class x statistic.

    ``drift`` is a quality report's ``drift`` (file -> class -> statistic -> distance);
    the colour scale ends at ``fail_at`` (the default fail threshold), so a red cell fails.
    """
    if not isinstance(drift, Mapping) or not drift or not all(_per_class(panel) for panel in drift.values()):
        raise wrong(
            "plots.quality_drift: drift",
            drift,
            "per-class drift by panel title, such as {'test': quality.drift['test']}",
        )
    plt = _plt()
    panels = list(drift)
    fig, axes = plt.subplots(1, len(panels), figsize=(4.2 * len(panels) + 1.4, 4.2), squeeze=False)
    for k, (ax, panel) in enumerate(zip(axes[0], panels)):
        classes = [c for c in CLASS_NAMES if c in drift[panel]]  # stored reports come back key-sorted
        found = drift[panel][classes[0]] if classes else {}
        stats = [s for s in _DRIFT_ORDER if s in found] + sorted(s for s in found if s not in _DRIFT_ORDER)
        values = np.array([[drift[panel][c][s] for s in stats] for c in classes])
        image = ax.imshow(values, cmap="Reds", vmin=0, vmax=fail_at, aspect="auto")
        ax.set_xticks(range(len(stats)), stats, rotation=40, ha="right", fontsize=8)
        ax.set_yticks(range(len(classes)), classes if k == 0 else [], fontsize=8)  # same rows in every panel
        for (i, j), v in np.ndenumerate(values):
            ax.text(
                j,
                i,
                _cell_text(v, fail_at),
                ha="center",
                va="center",
                fontsize=6,
                color="white" if v > 0.6 * fail_at else "black",
            )
        ax.set_title(panel, fontsize=10)
        ax.set_xlabel("statistic", fontsize=8)
        if k == 0:
            ax.set_ylabel("class", fontsize=8)
    fig.colorbar(image, ax=axes[0].tolist(), shrink=0.8, label=f"distance (fails above {fail_at:g})")
    fig.suptitle("Drift per class against the reference (KS distance; L1 for profiles)", fontsize=11)
    return fig


def _cell_text(value: float, fail_at: float) -> str:
    """Two decimals; more where fewer would show a failing value as the threshold itself (0.104 as "0.10")."""
    digits = 2
    while digits < 6 and value > fail_at and float(f"{value:.{digits}f}") <= fail_at:
        digits += 1
    return f"{value:.{digits}f}"


def _per_class(panel: object) -> bool:
    """Whether ``panel`` is one file's drift: class name -> statistic -> distance."""
    return isinstance(panel, Mapping) and any(isinstance(panel.get(name), Mapping) for name in CLASS_NAMES)
