"""Duplicates: exact (hashes of the image bytes) and near (shift-tolerant), within and across files.

Exact duplicates: every image's 784 bytes get a 64-bit key (:func:`image_keys`); equal keys
mean equal images (a false match among 70,000 images has odds of about 1 in 10^10, and
test/train matches are confirmed byte by byte).

Near duplicates, test images that are a training image moved by a pixel or re-encoded:

1. **Candidates by Fourier magnitude.** The magnitude of an image's discrete Fourier
   transform does not change when the image is shifted (circularly; a zero-filled shift
   of a Fashion-MNIST item, which sits on a black background, changes it little). The
   28 magnitudes of the lowest frequencies (7 x 4) make a shift-tolerant feature; for
   each test image the nearest training image of the same class in that space is found with exact float32
   distances, computed in blocks and pruned by the first principal component (a pair
   farther apart along any unit direction than the radius cannot be within the radius).
   Downscaled pixels (7x7, 14x14) were measured first: a one-pixel shift moves an image
   farther from itself than most images are from their nearest *different* neighbour.
2. **Verification on pixels.** The candidate pair counts as a near duplicate only if, at
   the best of the shifts up to ``NEAR_SHIFT`` pixels each way, the mean absolute pixel
   difference is at most ``NEAR_PIXEL_DIFF`` of full scale. So the measured share means
   "looks the same up to a small shift", whatever the features did.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from . import thresholds as T

_FY = np.array([0, 1, 2, 3, -3, -2, -1])
_FX = np.arange(4)
_K = np.arange(28)
_COS_Y = np.cos(2 * np.pi * np.outer(_FY, _K) / 28).astype(np.float32)
_SIN_Y = np.sin(2 * np.pi * np.outer(_FY, _K) / 28).astype(np.float32)
_COS_X = np.cos(2 * np.pi * np.outer(_FX, _K) / 28).astype(np.float32)
_SIN_X = np.sin(2 * np.pi * np.outer(_FX, _K) / 28).astype(np.float32)


_MULTIPLIERS = np.random.default_rng(20_251_127).integers(0, 2**63, 98, dtype=np.uint64) * np.uint64(2) + np.uint64(
    1
)  # fixed odd multipliers: the same keys on every machine


def image_keys(images: np.ndarray) -> np.ndarray:
    """A 64-bit key of each image's 784 bytes (``uint64``, one per image).

    Multiply-and-add hashing of the 98 eight-byte words with fixed random odd
    multipliers (wrapping arithmetic), then splitmix64's finaliser: two operations a
    word, at numpy speed. Equal images have equal keys; matches that decide a verdict
    are confirmed byte by byte (:func:`leakage`).
    """
    words = np.ascontiguousarray(images.reshape(len(images), -1)).view(np.uint64)  # n x 98
    with np.errstate(over="ignore"):
        x = (words * _MULTIPLIERS[: words.shape[1]]).sum(axis=1, dtype=np.uint64)
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


def duplicate_rows(keys: np.ndarray) -> int:
    """How many rows repeat an earlier row of the same file."""
    return int(len(keys) - len(np.unique(keys)))


def conflicting_labels(keys: np.ndarray, labels: np.ndarray) -> int:
    """How many images have an identical twin with a different label."""
    order = np.lexsort((labels, keys))
    k, lab = keys[order], labels[order]
    starts = np.r_[True, k[1:] != k[:-1]]
    group = np.cumsum(starts) - 1
    first = lab[starts][group]
    mixed = np.zeros(int(group[-1]) + 1 if len(group) else 0, bool)
    np.logical_or.at(mixed, group, lab != first)
    return int(mixed[group].sum())


def _y_transform() -> np.ndarray:
    """The 224 x 56 matrix that takes per-row (cos, sin) sums along x to (re, im) of the 2-D DFT."""
    m = np.zeros((28, 8, 7, 8), np.float32)  # (y, [a_v, b_v]) -> (u, [re_v, im_v])
    for v in range(4):
        m[:, v, :, v] = _COS_Y.T  # re  = sum_y cos(uy) a - sin(uy) b
        m[:, 4 + v, :, v] = -_SIN_Y.T
        m[:, v, :, 4 + v] = _SIN_Y.T  # -im = sum_y sin(uy) a + cos(uy) b
        m[:, 4 + v, :, 4 + v] = _COS_Y.T
    return m.reshape(224, 56)


_X_TRANSFORM = np.concatenate([_COS_X, _SIN_X]).T.copy()  # 28 x 8: per row, a_v (cos) and b_v (sin)
_Y_TRANSFORM = _y_transform()


def fourier_features(images: np.ndarray) -> np.ndarray:
    """Magnitudes of the 7 x 4 lowest 2-D DFT frequencies (``n x 28`` float32, pixels scaled to 0..1).

    Two plain matrix products, no transposes: along x (cos and sin of 4 frequencies), then
    along y. ``images`` may be uint8 or float32 (0..255), ``n x 28 x 28`` or ``n x 784``.
    """
    n = len(images)
    rows = images.reshape(n * 28, 28).astype(np.float32, copy=False) @ _X_TRANSFORM  # (n*28) x 8
    spectrum = (rows.reshape(n, 224) @ _Y_TRANSFORM).reshape(n, 7, 8)  # n x u x [re, im]
    re, im = spectrum[..., :4], spectrum[..., 4:]
    return (np.sqrt(re * re + im * im) / (28 * 255)).reshape(n, 28)


def nearest(queries: np.ndarray, base: np.ndarray, radius: float, block: int = 512) -> tuple[np.ndarray, np.ndarray]:
    """For each query row, the nearest base row within ``radius`` (index, distance; -1, inf if none)."""
    index = np.full(len(queries), -1, np.int64)
    dist = np.full(len(queries), np.inf, np.float32)
    if len(queries) == 0 or len(base) == 0:
        return index, dist
    mean = base.mean(axis=0)
    sample = base[:: max(1, len(base) // 5000)] - mean
    axis = np.linalg.eigh(sample.T @ sample)[1][:, -1]
    pq, pb = (queries - mean) @ axis, (base - mean) @ axis
    oq, ob = np.argsort(pq, kind="stable"), np.argsort(pb, kind="stable")
    pb_sorted, base_sorted = pb[ob], base[ob]
    norms = np.einsum("ij,ij->i", base_sorted, base_sorted)
    for start in range(0, len(queries), block):
        rows = oq[start : start + block]
        lo = np.searchsorted(pb_sorted, pq[rows].min() - radius)
        hi = np.searchsorted(pb_sorted, pq[rows].max() + radius)
        if hi <= lo:
            continue
        q = queries[rows]
        d2 = norms[None, lo:hi] - 2 * (q @ base_sorted[lo:hi].T)
        best = d2.argmin(axis=1)
        value = d2[np.arange(len(rows)), best] + np.einsum("ij,ij->i", q, q)
        index[rows] = ob[lo + best]
        dist[rows] = np.sqrt(np.maximum(value, 0))
    far = dist > radius
    index[far], dist[far] = -1, np.inf
    return index, dist


def shifted(images: np.ndarray, dy: int, dx: int) -> np.ndarray:
    """Images moved ``dy`` rows down and ``dx`` columns right, filled with black."""
    out = np.zeros_like(images)
    h, w = images.shape[1:]
    out[:, max(dy, 0) : h + min(dy, 0), max(dx, 0) : w + min(dx, 0)] = images[
        :, max(-dy, 0) : h + min(-dy, 0), max(-dx, 0) : w + min(-dx, 0)
    ]
    return out


def shift_difference(a: np.ndarray, b: np.ndarray, reach: int = T.NEAR_SHIFT) -> np.ndarray:
    """Per pair, the smallest mean absolute difference (0..1) of ``a`` and ``b`` moved up to ``reach`` pixels."""
    a16 = a.astype(np.int16)
    best = np.full(len(a), np.inf)
    for dy in range(-reach, reach + 1):
        for dx in range(-reach, reach + 1):
            diff = np.abs(a16 - shifted(b, dy, dx)).mean(axis=(1, 2)) / 255
            best = np.minimum(best, diff)
    return best


class Leakage(NamedTuple):
    exact: int  # test images identical to a training image
    near: int  # test images with a near duplicate in training (exact ones included)
    examples: list[tuple[int, int]]  # a few (test row, train row) pairs, 0-based


def leakage(
    train: np.ndarray,
    train_labels: np.ndarray,
    test: np.ndarray,
    test_labels: np.ndarray,
    train_keys: np.ndarray,
    test_keys: np.ndarray,
    *,
    train_features: np.ndarray | None = None,
    test_features: np.ndarray | None = None,
) -> Leakage:
    """Test images that also occur in the training file: exactly (any label) or nearly (same label).

    The near-duplicate search runs within each class: ten times less work, and a copied
    image keeps its label (a relabelled exact copy is still caught by the hash).
    """
    exact = np.isin(test_keys, train_keys)
    if exact.any():  # confirm byte by byte
        first = {int(k): i for i, k in enumerate(train_keys)}
        for i in np.flatnonzero(exact):
            exact[i] = np.array_equal(test[i], train[first[int(test_keys[i])]])
    ft = fourier_features(train) if train_features is None else train_features
    fq = fourier_features(test) if test_features is None else test_features
    index = np.full(len(test), -1, np.int64)
    for c in np.unique(test_labels):
        q, b = np.flatnonzero(test_labels == c), np.flatnonzero(train_labels == c)
        found, _ = nearest(fq[q], ft[b], T.NEAR_FEATURE_RADIUS)
        index[q[found >= 0]] = b[found[found >= 0]]
    rows = np.flatnonzero(index >= 0)
    near = np.zeros(len(test), bool)
    if rows.size:
        near[rows] = shift_difference(test[rows], train[index[rows]]) <= T.NEAR_PIXEL_DIFF
    leaked = near | exact
    examples = [(int(i), int(index[i])) for i in np.flatnonzero(near)[:5]]
    return Leakage(int(exact.sum()), int(leaked.sum()), examples)
