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


PROFILES = ("row profile", "column profile")  # the brightness profiles, in :func:`profiles`' order


def profile_moments(images: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Per profile (rows, columns) and class, ``X^T X`` with ``X = [1, each image's 28 row (column)
    pixel sums]`` over the class's images (``2 x classes x 29 x 29``): count, sums and sums of
    products, integers below 2**53 and so exact in float64: files add up to their union's."""
    out = np.zeros((2, NUM_CLASSES, 29, 29))
    for k, axis in enumerate((2, 1)):
        sums = images.reshape(-1, 28, 28).sum(axis=axis, dtype=np.int64).astype(np.float64)
        x = np.concatenate([np.ones((len(sums), 1)), sums], axis=1)
        for c in range(NUM_CLASSES):
            mine = x[labels == c]
            out[k, c] = mine.T @ mine
    return out


def profile_spread(moments: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """From :func:`profile_moments`: per profile and class, the per-image standard deviation of
    each row's (column's) mean brightness (``2 x classes x 28``), and ``sqrt(28 * l)``, ``l`` the
    largest eigenvalue of their covariance (``2 x classes``), which no signed sum of the 28 (each
    +1 or -1) spreads more than. A class of fewer than two images takes the widest spread possible
    at its mean ``r``, ``sqrt(r * (255 - r))`` (Bhatia-Davis), and their sum."""
    spread, signed = np.zeros((2, NUM_CLASSES, 28)), np.zeros((2, NUM_CLASSES))
    for k in range(2):
        for c in range(NUM_CLASSES):
            n, sums, products = moments[k, c, 0, 0], moments[k, c, 0, 1:], moments[k, c, 1:, 1:]
            if n < 2:
                r = sums / max(n, 1) / 28
                spread[k, c] = np.sqrt(np.clip(r * (255 - r), 0, None))
                signed[k, c] = spread[k, c].sum()
                continue
            cov = (products - np.outer(sums, sums) / n) / (n - 1) / 28**2
            spread[k, c] = np.sqrt(np.clip(np.diag(cov), 0, None))
            signed[k, c] = np.sqrt(28 * max(float(np.linalg.eigvalsh(cov)[-1]), 0.0))
    return spread, signed


def profile_distance(a: np.ndarray, b: np.ndarray) -> float:
    """L1 distance of two brightness profiles relative to the reference ``b``'s total."""
    total = float(np.abs(b).sum())
    return float(np.abs(a - b).sum() / total) if total else 0.0
