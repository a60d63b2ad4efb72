"""Shared plumbing for the figures: a headless-safe pyplot and :func:`save` (PNG, never half-written)."""

from __future__ import annotations

import os
from pathlib import Path


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


def figure_path(folder: str | os.PathLike[str], name: str) -> Path:
    """Where :func:`save` writes figure ``name`` in ``folder`` (``folder/name.png``)."""
    if not name or Path(name).name != name or name.startswith("."):
        raise ValueError(f"figure name {name!r}: expected a plain file name such as 'class_balance'")
    return Path(folder) / (name if name.lower().endswith(".png") else f"{name}.png")


def save(fig, folder: str | os.PathLike[str], name: str, *, dpi: int = 100):
    """Write ``fig`` to ``folder/name.png`` (never half-written) and hand ``fig`` back.

    Returning the figure lets a notebook cell save and show in one line:
    ``fig = plots.save(plots.class_balance(...), out, "class_balance")``.
    """
    from ..fsutil import atomic_path

    path = figure_path(folder, name)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=dpi, bbox_inches="tight")
    return fig


def _off(ax) -> None:
    ax.set_xticks([])
    ax.set_yticks([])
