"""Damaged versions of the real Fashion-MNIST, one kind of damage each (for the quality tests).

Each function takes and returns ``(train, test)`` as ``((images, labels), (images, labels))``
and never changes its input. ``rng`` makes each damage reproducible.
"""

from __future__ import annotations

import numpy as np

from fashion_lib.quality.leakage import shifted  # noqa: F401 (also used as Q.shifted by the tests)

Split = tuple[np.ndarray, np.ndarray]
Data = tuple[Split, Split]


def official(raw: dict) -> Data:
    """The official train and test splits, read from the four IDX files ``raw`` (``sources.find_in``)."""
    from fashion_lib.idx import load_images, load_labels

    return (
        (load_images(raw["train-images-idx3-ubyte"]), load_labels(raw["train-labels-idx1-ubyte"])),
        (load_images(raw["t10k-images-idx3-ubyte"]), load_labels(raw["t10k-labels-idx1-ubyte"])),
    )


def _rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


def resplit(data: Data, seed: int = 0) -> Data:
    """An honest re-shuffle and re-split of all images, with the same file sizes."""
    (a, la), (b, lb) = data
    images, labels = np.concatenate([a, b]), np.concatenate([la, lb])
    order = _rng(seed).permutation(len(labels))
    tr, te = order[: len(la)], order[len(la) :]
    return (images[tr], labels[tr]), (images[te], labels[te])


def leak(data: Data, share: float, shift: tuple[int, int] = (0, 0), seed: int = 1) -> Data:
    """``share`` of the test images (with their labels) copied over random training rows, optionally shifted."""
    (a, la), (b, lb) = data
    rng = _rng(seed)
    k = round(share * len(lb))
    src, dst = rng.choice(len(lb), k, replace=False), rng.choice(len(la), k, replace=False)
    a, la = a.copy(), la.copy()
    a[dst], la[dst] = shifted(b[src], *shift), lb[src]
    return (a, la), (b, lb)


def shrink_class(data: Data, cls: int, keep: float, seed: int = 2) -> Data:
    """Keep only ``keep`` of class ``cls`` in the training file."""
    (a, la), test = data
    rows = np.flatnonzero(la == cls)
    drop = _rng(seed).choice(rows, round(len(rows) * (1 - keep)), replace=False)
    mask = np.ones(len(la), bool)
    mask[drop] = False
    return (a[mask], la[mask]), test


def shift_labels(data: Data, share: float, seed: int = 3) -> Data:
    """``share`` of the training labels moved to the next class."""
    (a, la), test = data
    rows = _rng(seed).choice(len(la), round(share * len(la)), replace=False)
    la = la.copy()
    la[rows] = (la[rows] + 1) % 10
    return (a, la), test


def edit_images(data: Data, share: float, edit, split: int = 1, seed: int = 4) -> Data:
    """``edit`` applied to ``share`` of the images of one file (0: train, 1: test)."""
    parts = [list(p) for p in data]
    images = parts[split][0].copy()
    rows = _rng(seed).choice(len(images), round(share * len(images)), replace=False)
    images[rows] = edit(images[rows])
    parts[split][0] = images
    return tuple(tuple(p) for p in parts)  # type: ignore[return-value]


def invert(images: np.ndarray) -> np.ndarray:
    return 255 - images


def blank(images: np.ndarray) -> np.ndarray:
    return np.zeros_like(images)


def darken_class(data: Data, cls: int, factor: float) -> Data:
    """Every image of class ``cls`` in the test file at ``factor`` of its brightness."""
    (a, la), (b, lb) = data
    b = b.copy()
    rows = lb == cls
    b[rows] = (b[rows] * factor).astype(np.uint8)
    return (a, la), (b, lb)


def duplicate_rows(data: Data, share: float, relabel: bool = False, seed: int = 5) -> Data:
    """``share`` of the training rows overwritten by copies of other training rows (with another label if ``relabel``)."""
    (a, la), test = data
    rng = _rng(seed)
    k = round(share * len(la))
    src, dst = rng.choice(len(la), k, replace=False), rng.choice(len(la), k, replace=False)
    a, la = a.copy(), la.copy()
    a[dst] = a[src]
    la[dst] = (la[src] + 1) % 10 if relabel else la[src]
    return (a, la), test
