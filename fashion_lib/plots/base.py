"""Shared plumbing for the figures: a headless-safe pyplot, :func:`save` (PNG, never half-written), and
the checks that turn a misused argument (a DataFrame for an array) into one line naming it."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..classes import CLASS_NAMES, NUM_CLASSES
from ..errors import ArgumentError, expect, wrong

IMAGES = "an array of 28x28 images, shape (n, 28, 28), pixel values 0-255, such as version.train.images"


def _plt():
    import matplotlib

    if matplotlib.get_backend().lower().startswith("qt") or not _in_notebook():
        matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt


def _in_notebook() -> bool:
    try:
        from IPython import get_ipython

        return get_ipython() is not None
    except ImportError:
        return False


def figure_path(folder: str | os.PathLike[str], name: str, *, where: str = "plots.figure_path") -> Path:
    """Where :func:`save` writes figure ``name`` in ``folder`` (``folder/name.png``)."""
    expect(folder, (str, os.PathLike), f"{where}: folder", "a folder path, such as run.output_dir")
    if not isinstance(name, str) or not name or Path(name).name != name or name.startswith("."):
        raise wrong(f"{where}: figure name", name, "a plain file name such as 'class_balance'")
    return Path(folder) / (name if name.lower().endswith(".png") else f"{name}.png")


def save(fig, folder: str | os.PathLike[str], name: str, *, dpi: int = 100):
    """Write ``fig`` to ``folder/name.png`` (never half-written) and hand ``fig`` back.

    Returning the figure lets a notebook cell save and show in one line:
    ``fig = plots.save(plots.class_balance(...), out, "class_balance")``.
    """
    from ..fsutil import atomic_path

    if not hasattr(fig, "savefig"):
        raise wrong("plots.save: fig", fig, "a matplotlib Figure, such as plots.class_balance(...) returns")
    path = figure_path(folder, name, where="plots.save")
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=dpi, bbox_inches="tight")
    return fig


def _off(ax) -> None:
    ax.set_xticks([])
    ax.set_yticks([])


def _array(value: Any) -> np.ndarray | None:
    """``value`` as a numeric array (a list, a pandas column), or None if it is not one."""
    if value is None or isinstance(value, (str, bytes, Mapping)):
        return None
    try:
        found = np.asarray(value)
    except (TypeError, ValueError):  # ragged lists
        return None
    return found if found.dtype.kind in "uif" else None


def _images(value: Any, where: str) -> np.ndarray:
    """``value`` as an array of 28x28 images with pixel values 0-255; else one line naming it."""
    found = _array(value)
    if found is None or found.ndim != 3 or found.shape[1:] != (28, 28) or not len(found):
        flat = found is not None and found.ndim == 2 and found.shape[1] in (784, 785)
        hint = " (rows of 784 pixels: .reshape(-1, 28, 28); a CSV's label column goes first)" if flat else ""
        raise wrong(f"{where}: images", value, IMAGES + hint)
    if found.dtype != np.uint8:
        low, high = found.min(), found.max()
        if low < 0 or high > 255 or (found.dtype.kind == "f" and 0 < high <= 1):
            scaled = " (these look scaled to 0-1: multiply by 255)" if 0 <= low and high <= 1 else ""
            raise wrong(f"{where}: images", value, f"pixel values 0-255, not {low:g} to {high:g}{scaled}")
    return found


def _labels(value: Any, where: str, count: int | None = None, name: str = "labels") -> np.ndarray:
    """``value`` as an array of class numbers 0-9 (``count`` of them, one per image); else one line naming it."""
    found = _array(value)
    if (
        found is None
        or found.ndim != 1
        or found.dtype.kind not in "ui"
        or (count is not None and len(found) != count)
        or (len(found) and (found.min() < 0 or found.max() >= NUM_CLASSES))
    ):
        many = f"{count:,} class numbers 0-9, one per image" if count is not None else "class numbers 0-9"
        raise wrong(f"{where}: {name}", value, f"{many}, such as version.train.labels")
    return found


def _classes(value: Sequence[Any], where: str) -> list[int]:
    """Class numbers 0-9; a class name given instead is one line saying its number."""
    if isinstance(value, str) or not isinstance(value, (Sequence, np.ndarray)):
        raise wrong(f"{where}: classes", value, "a list of class numbers 0-9, such as (0, 2, 4, 6)")
    for c in value:
        if isinstance(c, bool) or not isinstance(c, (int, np.integer)) or not 0 <= c < NUM_CLASSES:
            hint = f" ({c} is {CLASS_NAMES.index(c)})" if c in CLASS_NAMES else ""
            raise ArgumentError(f"{where}: classes holds {c!r}; expected class numbers 0-9{hint}")
    return [int(c) for c in value]


def _enough(labels: np.ndarray, classes: Sequence[int], per_class: int, where: str) -> None:
    """One line if a class shown has fewer than ``per_class`` images (a small subset)."""
    counts = np.bincount(labels, minlength=NUM_CLASSES)
    fewest = min(classes, key=lambda c: counts[c])
    if counts[fewest] < per_class:
        way_out = f"give per_class={counts[fewest]} or fewer, or more images" if counts[fewest] else "give more images"
        raise ArgumentError(
            f"{where}: per_class is {per_class}, but {CLASS_NAMES[fewest]} has {counts[fewest]} image(s) here; {way_out}"
        )
