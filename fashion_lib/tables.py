"""Every table the notebooks show, as formatted pandas tables (``Styler``) that Jupyter renders as HTML.

Each function takes plain data (labels, a ``metrics.json``, a history, a lineage record, the
registry's version list) and returns a ``pandas.io.formats.style.Styler``: percentages as
percentages, losses rounded, hashes shortened, the row that matters highlighted. The numbers
underneath stay numbers: ``.data`` is the DataFrame. pandas is imported inside the functions.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from .classes import CLASS_NAMES, NUM_CLASSES

if TYPE_CHECKING:  # pragma: no cover
    from pandas.io.formats.style import Styler

    from .config import TrainConfig
    from .quality.report import QualityReport
    from .registry.records import PackageVersion

HIGHLIGHT = "background-color: #fff3b0"  # the row a reader should look at
FAIL = "background-color: #f8d0d0"
PASS = "background-color: #d9f2d9"


def _styled(frame: Any) -> Styler:
    """``frame.style`` with one header row: the index's name goes to the top-left corner, beside the
    column labels, instead of a second header row of its own (pandas' default)."""
    return frame.rename_axis(index=None, columns=frame.index.name).style


def class_balance(splits: Mapping[str, np.ndarray]) -> Styler:
    """Images per class and each class's share, per split (e.g. ``{"train": labels, "test": labels}``)."""
    import pandas as pd

    columns: dict[str, Any] = {}
    for name, labels in splits.items():
        counts = np.bincount(np.asarray(labels, dtype=np.int64), minlength=NUM_CLASSES)[:NUM_CLASSES]
        columns[f"{name} images"] = counts
        columns[f"{name} share"] = counts / max(int(counts.sum()), 1)
    frame = pd.DataFrame(columns, index=pd.Index(CLASS_NAMES, name="class"))
    shares = [c for c in frame.columns if c.endswith(" share")]
    return (
        _styled(frame)
        .format("{:,}", subset=[c for c in frame.columns if c not in shares])
        .format("{:.1%}", subset=shares)
    )


def per_class(metrics: dict[str, Any]) -> Styler:
    """Per-class test scores: precision, recall and F1 as percentages, the weakest class highlighted.

    ``metrics`` is a ``metrics.json``, ``pipeline.test_metrics(...)``, or a lineage record.
    """
    from .lineage import per_class_frame

    frame = per_class_frame(metrics)
    scores = [c for c in ("precision", "recall", "f1") if c in frame.columns]
    styler = _styled(frame).format("{:.1%}", subset=scores)
    if "support" in frame.columns:
        styler = styler.format("{:,}", subset=["support"])
    if "f1" in frame.columns:
        weakest = frame["f1"].idxmin()
        styler = styler.apply(lambda row: [HIGHLIGHT if row.name == weakest else ""] * len(row), axis=1)
    return styler


_HISTORY_FORMATS = {"loss": "{:.4f}", "accuracy": "{:.2%}", "lr": "{:.2e}", "seconds": "{:.1f}"}


def history(source: Mapping[str, Sequence[float]] | str | os.PathLike[str] | Any) -> Styler:
    """The training history, one row per epoch from 1: losses rounded, accuracies in percent,
    the epoch with the best validation accuracy (the weights kept) highlighted.

    ``source`` is a history mapping (``TrainResult.history``), a run folder, a ``history.csv``
    or a fetched model package (see :func:`fashion_lib.model_package.history_frame`).
    """
    import pandas as pd

    from .model_package import history_frame

    if isinstance(source, Mapping):
        frame = pd.DataFrame({k: list(v) for k, v in source.items()})
        frame.index = pd.RangeIndex(1, len(frame) + 1, name="epoch")
    else:
        frame = history_frame(source)
    formats = {}
    for column in frame.columns:
        base = column.removeprefix("val_")
        if base in _HISTORY_FORMATS and pd.api.types.is_numeric_dtype(frame[column]):
            formats[column] = _HISTORY_FORMATS[base]
    styler = _styled(frame).format(formats)
    if "val_accuracy" in frame.columns and frame["val_accuracy"].notna().any():
        best = frame["val_accuracy"].idxmax()
        styler = styler.apply(lambda row: [HIGHLIGHT if row.name == best else ""] * len(row), axis=1)
    return styler


def versions(
    found: Iterable[PackageVersion],
    *,
    names: Iterable[str] | None = None,
    current: Iterable[str | None] = (),
    current_label: str = "this run",
    latest: int | None = 10,
) -> Styler:
    """Package versions (``registry.list_versions``), newest first, hashes shortened to 12 characters.

    ``names``: only these packages; ``current``: top hashes to highlight (the versions this run
    used or made), marked ``current_label`` in the ``used`` column; ``latest``: at most this many versions per package (None: all).
    """
    from .registry import versions_frame

    frame = versions_frame(list(found))
    if names is not None:
        frame = frame[frame["name"].isin(list(names))]
    if latest is not None:
        frame = frame.groupby("name", sort=False).head(latest)
    marked = {h for h in current if h}
    frame = frame.assign(
        used=frame["top_hash"].isin(marked).map({True: current_label, False: ""}),
        top_hash=frame["top_hash"].str[:12],
        created=frame["created"].map(lambda t: t.strftime("%Y-%m-%d %H:%M") if hasattr(t, "strftime") else t),
        damaged=frame["damaged"].fillna(""),
        message=frame["message"].fillna(""),
    ).reset_index(drop=True)
    return frame.style.hide(axis="index").apply(
        lambda row: [HIGHLIGHT if row["used"] else (FAIL if row["damaged"] else "")] * len(row), axis=1
    )


LINEAGE_SHOWN_ELSEWHERE = ("metrics.per_class", "metrics.confusion_matrix", "metrics.misclassified")
# ``metrics.tta`` records whether scoring averaged each image with its mirror in code, on top of the views
# the shipped file averages itself (``fashion evaluate --tta``): False beside ``training.config.tta`` True
# reads as "no test-time augmentation", so False is not shown and True is shown under what it means.
EXTRA_MIRROR = "metrics.tta"
EXTRA_MIRROR_SHOWN = "metrics.scored with an extra mirror in code (besides the file's views)"


def lineage(meta: dict[str, Any], *, skip: Sequence[str] = LINEAGE_SHOWN_ELSEWHERE) -> Styler:
    """A lineage record as a ``field`` / ``value`` table: nested keys dotted, numbers rounded,
    the registry shown as a reader sees it (``~/...``); ``skip``: fields (and their children)
    that other tables already show, such as per-class scores. ``metrics.tta`` (an extra mirror averaged
    in code when scored, besides the file's own views) is shown only where it was done, under that name."""
    from .lineage import lineage_frame
    from .settings import display_path

    frame = lineage_frame(meta)
    keep = ~frame["field"].map(lambda f: any(f == s or f.startswith(f"{s}.") for s in skip))
    keep &= ~((frame["field"] == EXTRA_MIRROR) & ~frame["value"].map(lambda v: v is True))
    frame = frame[keep].reset_index(drop=True)
    frame["field"] = frame["field"].replace({EXTRA_MIRROR: EXTRA_MIRROR_SHOWN})

    def show(field: str, value: Any) -> str:
        if field == "data.registry" and isinstance(value, str) and value:
            return display_path(value)
        if isinstance(value, float):
            return f"{value:.2%}" if "accuracy" in field.rsplit(".", 1)[-1] else f"{value:.4g}"
        if value is None:
            return "-"
        return str(value)

    frame["value"] = [show(f, v) for f, v in zip(frame["field"], frame["value"])]
    left = [{"selector": "th, td", "props": [("text-align", "left")]}]
    return _styled(frame.set_index("field")).set_table_styles(left)


def quality_checks(report: QualityReport) -> Styler:
    """A data-quality report's checks (``quality.gate.ensure_quality``), verdicts coloured."""
    import pandas as pd

    frame = pd.DataFrame(report.rows()).set_index("check")[["measured", "threshold", "verdict"]]
    colours = {"pass": PASS, "fail": FAIL}
    return _styled(frame).map(lambda v: colours.get(str(v).lower(), HIGHLIGHT), subset=["verdict"])


def recipe(config: TrainConfig) -> Styler:
    """The training recipe in words, one row per aspect (:func:`fashion_lib.recipe.recipe`)."""
    import pandas as pd

    from .recipe import recipe as in_words

    words = in_words(config)
    frame = pd.DataFrame({"recipe": list(words.values())}, index=pd.Index(list(words), name="aspect"))
    left = [{"selector": "th, td", "props": [("text-align", "left")]}]
    return _styled(frame).set_table_styles(left)


def views(config: TrainConfig) -> Styler:
    """The views of each image that the shipped model averages (:func:`fashion_lib.model.tta_views`)."""
    import pandas as pd

    from .model import tta_views

    rows = [
        {"view": k, "mirrored": "yes" if m else "no", "rows down": dy, "columns right": dx}
        for k, (m, dy, dx) in enumerate(tta_views(config), start=1)
    ]
    return _styled(pd.DataFrame(rows).set_index("view"))


def test_scores(metrics: dict[str, Any]) -> Styler:
    """The headline test numbers of a run (``metrics.json`` or ``TrainingRun.metrics()``), one row."""
    import pandas as pd

    columns = {
        "test_accuracy": ("accuracy (shipped file)", "{:.2%}"),
        "test_accuracy_single_view": ("accuracy (network alone)", "{:.2%}"),
        "test_loss": ("loss", "{:.4f}"),
        "macro_f1": ("macro F1", "{:.2%}"),
        "misclassified_count": ("mistakes", "{:,}"),
    }
    row = {label: metrics[key] for key, (label, _) in columns.items() if metrics.get(key) is not None}
    frame = pd.DataFrame([row], index=pd.Index(["test set"]))
    return frame.style.format({label: fmt for label, fmt in columns.values() if label in row})
