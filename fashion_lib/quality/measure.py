"""Measure a candidate (both files) once: per-split statistics, hashes, leakage and label conflicts.

The expensive part of the data-quality check; :mod:`.checks` then compares the
:class:`Measurement` with a reference profile.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np

from . import blas, stats
from . import leakage as L
from . import thresholds as T
from .profile import Profile, class_mean_images, nearest_mean_predictions, round6

Split = tuple[np.ndarray, np.ndarray]  # images (n x 28 x 28 uint8), labels (n,)


@dataclass
class SplitMeasure:
    """What one file is made of, measured once."""

    name: str
    labels: np.ndarray
    flat32: np.ndarray  # n x 784 float32 (for the label-sanity classifier)
    class_counts: np.ndarray
    histograms: dict[str, np.ndarray]
    sums: np.ndarray  # classes x 784
    moments: np.ndarray  # brightness-profile moments (stats.profile_moments)
    keys: np.ndarray
    duplicates: int
    degenerate: int
    sha256: str

    @property
    def n(self) -> int:
        return len(self.labels)


@dataclass
class Measurement:
    """Both files of a candidate, measured; :meth:`profile` makes it a future reference."""

    splits: dict[str, SplitMeasure]
    leak: L.Leakage
    conflicts: int

    @property
    def n(self) -> int:
        return sum(s.n for s in self.splits.values())

    def candidate(self) -> dict:
        return {name: {"rows": s.n, "sha256": s.sha256} for name, s in self.splits.items()}

    def profile(self, source: str) -> Profile:
        counts = sum(s.class_counts for s in self.splits.values())
        sums = sum(s.sums for s in self.splits.values())
        means = class_mean_images(sums, counts)
        agree = sum(
            int(np.count_nonzero(nearest_mean_predictions(s.flat32, means) == s.labels)) for s in self.splits.values()
        )
        test = self.splits["test"].n
        spread, signed = stats.profile_spread(sum(s.moments for s in self.splits.values()))
        return Profile(
            source=source,
            images=self.n,
            class_counts=[int(c) for c in counts],
            histograms={k: sum(s.histograms[k] for s in self.splits.values()).tolist() for k in stats.BINS},
            class_means=np.round(means, 2).tolist(),
            label_agreement=round6(agree / max(self.n, 1)),
            leak_share=round6(self.leak.near / max(test, 1)),
            duplicate_share=round6(sum(s.duplicates for s in self.splits.values()) / max(self.n, 1)),
            conflict_share=round6(self.conflicts / max(self.n, 1)),
            degenerate_share=round6(sum(s.degenerate for s in self.splits.values()) / max(self.n, 1)),
            profile_spread={k: np.round(spread[i], 4).tolist() for i, k in enumerate(stats.PROFILES)},
            profile_signed_spread={k: np.round(signed[i], 4).tolist() for i, k in enumerate(stats.PROFILES)},
        )


def data_sha256(images: np.ndarray, labels: np.ndarray) -> str:
    """SHA-256 of a file's content as loaded (uint8 images, then uint8 labels)."""
    digest = hashlib.sha256(np.ascontiguousarray(images, dtype=np.uint8).data)
    digest.update(np.ascontiguousarray(labels, dtype=np.uint8).data)
    return digest.hexdigest()


_FRAME = np.zeros((28, 28), bool)
_FRAME[[0, -1], :] = _FRAME[:, [0, -1]] = True
_FRAME = _FRAME.ravel()


def degenerate_count(flat: np.ndarray) -> int:
    """Blank (nothing brighter than BLANK_MAX), constant, saturated (most pixels >= 250) or
    inverted (a bright frame: Fashion-MNIST items sit on black) images."""
    top, bottom = flat.max(axis=1), flat.min(axis=1)
    saturated = np.count_nonzero(flat >= 250, axis=1) > T.SATURATED_SHARE * flat.shape[1]
    inverted = np.median(flat[:, _FRAME], axis=1) >= T.INVERTED_FRAME
    return int(np.count_nonzero((top <= T.BLANK_MAX) | (top == bottom) | saturated | inverted))


def measure_split(name: str, images: np.ndarray, labels: np.ndarray) -> SplitMeasure:
    labels = np.asarray(labels, dtype=np.int64)
    flat = images.reshape(len(images), -1)
    flat32 = flat.astype(np.float32)
    keys = L.image_keys(images)
    sums, counts = stats.class_sums(flat32, labels)
    return SplitMeasure(
        name=name,
        labels=labels,
        flat32=flat32,
        class_counts=counts,
        histograms=stats.class_histograms(stats.image_stats(images, flat32), labels),
        sums=sums,
        moments=stats.profile_moments(images, labels),
        keys=keys,
        duplicates=L.duplicate_rows(keys),
        degenerate=degenerate_count(flat),
        sha256=data_sha256(images, labels),
    )


def measure(train: Split, test: Split) -> Measurement:
    """Measure both files (the expensive part; everything after is a comparison)."""
    with blas.single_thread():
        return _measure(train, test)


def _measure(train: Split, test: Split) -> Measurement:
    splits = {"train": measure_split("train", *train), "test": measure_split("test", *test)}
    tr, te = splits["train"], splits["test"]
    leak = L.leakage(
        train[0],
        tr.labels,
        test[0],
        te.labels,
        tr.keys,
        te.keys,
        train_features=L.fourier_features(tr.flat32),
        test_features=L.fourier_features(te.flat32),
    )
    conflicts = L.conflicting_labels(np.concatenate([tr.keys, te.keys]), np.concatenate([tr.labels, te.labels]))
    return Measurement(splits, leak, conflicts)
