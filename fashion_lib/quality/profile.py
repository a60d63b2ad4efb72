"""A data version's statistical profile: what later versions are compared with.

A profile is small (about 60 KB of JSON) and a deterministic function of the images
and labels: class counts, per-class histograms of per-image statistics, per-class mean
images (their row and column means are the brightness profiles; they also make the
nearest-class-mean classifier of the label-sanity check), the per-image spread of those
profiles (the drift check's sampling band), and the reference's own
rates of leakage, duplicates, label conflicts, degenerate images and label agreement.
It pools both files, so a re-split of the same images has the same profile.

The profile of the official upstream files ships with the library
(``official_profile.json``); ``python -m fashion_lib.quality`` rebuilds it.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

OFFICIAL_PROFILE = Path(__file__).with_name("official_profile.json")
OFFICIAL_SOURCE = "official Fashion-MNIST (the four upstream IDX files)"
VERSION = 1


@dataclass(frozen=True)
class Profile:
    """See the module docstring; lists rather than arrays, so it is JSON as it stands."""

    source: str
    images: int
    class_counts: list[int]
    histograms: dict[str, list[list[int]]]
    class_means: list[list[float]]  # classes x 784, pixel means (0..255)
    label_agreement: float  # nearest-class-mean agreement with the labels
    leak_share: float  # test images with a (near) duplicate in train (shown; checks use the official's)
    duplicate_share: float  # rows repeating an earlier row of their file
    conflict_share: float  # images with an identical twin of another label
    degenerate_share: float  # blank, constant or saturated images
    version: int = VERSION
    # brightness profile name -> classes x 28 per-image spread of each row's (column's) mean, and
    # per class a bound on any signed sum's (stats.profile_spread); None in profiles made before
    profile_spread: dict[str, list[list[float]]] | None = None
    profile_signed_spread: dict[str, list[float]] | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Profile:
        if data.get("version") != VERSION:
            raise ValueError(f"profile version {data.get('version')!r}, expected {VERSION}")
        optional = ("profile_spread", "profile_signed_spread")
        return cls(**{k: data[k] for k in cls.__dataclass_fields__ if k in data or k not in optional})

    def means(self) -> np.ndarray:
        return np.asarray(self.class_means, dtype=np.float32)

    def histogram(self, name: str) -> np.ndarray:
        return np.asarray(self.histograms[name])

    def spread(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """(classes x 28 spreads, classes signed-sum bounds) of brightness profile ``name``; a
        profile made before they were recorded lends the official profile's."""
        own = self if self.profile_spread and self.profile_signed_spread else official()
        return np.asarray(own.profile_spread[name]), np.asarray(own.profile_signed_spread[name])


def round6(x: float) -> float:
    """Floats in reports and profiles: rounded, so the JSON is stable across machines."""
    return float(round(float(x), 6))


def class_mean_images(sums: np.ndarray, counts: np.ndarray) -> np.ndarray:
    return sums / np.maximum(counts, 1)[:, None]


def nearest_mean_predictions(flat32: np.ndarray, means: np.ndarray) -> np.ndarray:
    """Nearest-class-mean labels for ``n x 784`` float32 images."""
    means = means.astype(np.float32)
    score = flat32 @ means.T - 0.5 * np.einsum("ij,ij->i", means, means)[None, :]
    return score.argmax(axis=1)


def save(profile: Profile, path: Path) -> None:
    from ..fsutil import atomic_path

    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(profile.to_dict(), separators=(",", ":"), sort_keys=True) + "\n")


@lru_cache(maxsize=1)
def official() -> Profile:
    """The committed profile of the official upstream files."""
    return Profile.from_dict(json.loads(OFFICIAL_PROFILE.read_text()))
