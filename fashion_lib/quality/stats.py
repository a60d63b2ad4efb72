"""Per-image statistics, their per-class histograms, and per-class mean images.

The statistics are those ``explore.ipynb`` looks at: mean intensity, ink area (share of
non-zero pixels) and the bounding box's height and width. Each is binned on a fixed
grid, so a histogram is a compact, deterministic summary two data versions can be
compared on (a binned two-sample Kolmogorov-Smirnov distance).
"""

from __future__ import annotations

import numpy as np

from ..classes import NUM_CLASSES
from . import thresholds as T

# name -> bin edges (fixed, so histograms of any two versions line up)
BINS: dict[str, np.ndarray] = {
    "mean intensity": np.linspace(0, 256, 65),  # 4 grey levels a bin
    "ink area": np.linspace(0, 1.0000001, 51),  # 2 % a bin
    "bbox height": np.arange(0, 30) - 0.5,  # 0..28 pixels
    "bbox width": np.arange(0, 30) - 0.5,
}


def _extent(mask: np.ndarray) -> np.ndarray:
    """Rows (or columns) from the first to the last True of each image's ``mask`` (n x 28)."""
    any_ = mask.any(axis=1)
    first = mask.argmax(axis=1)
    last = mask.shape[1] - 1 - mask[:, ::-1].argmax(axis=1)
    return np.where(any_, last - first + 1, 0)


def image_stats(images: np.ndarray, flat32: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Per-image statistics of ``n x 28 x 28`` uint8 images (one array per name in BINS).

    ``flat32``: the same images as ``n x 784`` float32, if already at hand.
    """
    flat = images.reshape(len(images), -1)
    mean = flat32.mean(axis=1) if flat32 is not None else flat.mean(axis=1, dtype=np.float32)
    rows, cols = images.max(axis=2), images.max(axis=1)
    return {
        "mean intensity": mean,
        "ink area": np.count_nonzero(flat, axis=1) / flat.shape[1],
        "bbox height": _extent(rows > T.BBOX_LEVEL),
        "bbox width": _extent(cols > T.BBOX_LEVEL),
    }


def class_histograms(stats: dict[str, np.ndarray], labels: np.ndarray) -> dict[str, np.ndarray]:
    """name -> ``classes x bins`` counts."""
    out = {}
    for name, edges in BINS.items():
        bins = np.clip(np.searchsorted(edges, stats[name], side="right") - 1, 0, len(edges) - 2)
        out[name] = np.bincount(
            labels.astype(np.int64) * (len(edges) - 1) + bins, minlength=NUM_CLASSES * (len(edges) - 1)
        ).reshape(NUM_CLASSES, -1)
    return out


def class_sums(flat32: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(``classes x 784`` pixel sums as float64, per-class counts) of ``n x 784`` float32 images."""
    counts = np.bincount(labels, minlength=NUM_CLASSES)
    onehot = np.zeros((NUM_CLASSES, len(labels)), np.float32)
    onehot[labels, np.arange(len(labels))] = 1
    sums = np.zeros((NUM_CLASSES, flat32.shape[1]))
    for start in range(0, len(flat32), 16384):  # float32 blocks of <= 16384 rows: exact sums of 0..255
        sums += onehot[:, start : start + 16384] @ flat32[start : start + 16384]
    return sums, counts


def ks_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Largest gap between the cumulative shares of two histograms (0 when either is empty)."""
    na, nb = a.sum(), b.sum()
    if na == 0 or nb == 0:
        return 0.0
    return float(np.abs(np.cumsum(a) / na - np.cumsum(b) / nb).max())


def profiles(mean_image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean brightness per row and per column of a 784-pixel mean image."""
    img = mean_image.reshape(28, 28)
    return img.mean(axis=1), img.mean(axis=0)


def profile_spread(flat32: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per class, the standard deviation across its images of each row's and each column's
    mean brightness (two ``classes x 28`` arrays; 0 for a class of fewer than two images)."""
    images = flat32.reshape(-1, 28, 28)
    rows, cols = images.mean(axis=2, dtype=np.float64), images.mean(axis=1, dtype=np.float64)
    spread = np.zeros((2, NUM_CLASSES, 28))
    for c in range(NUM_CLASSES):
        mine = labels == c
        if np.count_nonzero(mine) >= 2:
            spread[0, c], spread[1, c] = rows[mine].std(axis=0, ddof=1), cols[mine].std(axis=0, ddof=1)
    return spread[0], spread[1]


def profile_distance(a: np.ndarray, b: np.ndarray) -> float:
    """L1 distance of two brightness profiles relative to the reference ``b``'s total."""
    total = float(np.abs(b).sum())
    return float(np.abs(a - b).sum() / total) if total else 0.0
