"""What a data package says about itself: the README and the metadata stored with its CSVs."""

from __future__ import annotations

from .classes import CLASS_NAMES
from .conversion import SPLITS
from .sources import RAW_FILES
from .validate import Report


def package_readme(reports: dict[str, Report]) -> str:
    """The README stored inside the data package."""
    rows = "\n".join(f"| `{SPLITS[split][0]}` | {r.rows:,} |" for split, r in reports.items())
    classes = "\n".join(f"| {i} | {name} |" for i, name in enumerate(CLASS_NAMES))
    return f"""# Fashion-MNIST (CSV)

Zalando's Fashion-MNIST: 28x28 grey images of clothes in 10 classes, as CSVs in the
Kaggle layout. Header `label,pixel1,...,pixel784`; one image per row, pixels 0..255
row by row, label 0..9. Converted from the four upstream IDX files, whose SHA-256
(of the decompressed bytes) are in this package's metadata under `source.sha256`.

| file | rows |
|---|---|
{rows}

| label | class |
|---|---|
{classes}

Source: https://github.com/zalandoresearch/fashion-mnist (MIT licence).
Every file passed the project's validation circuit breaker before publishing, and the data
passed its data-quality circuit breaker: the report is `quality.json` (and `quality` in the metadata).
"""


def package_meta(reports: dict[str, Report]) -> dict:
    """Metadata stored with the data package."""
    return {
        "dataset": "fashion-mnist",
        "format": "csv: label,pixel1..pixel784 (uint8)",
        "source": {"sha256": dict(RAW_FILES), "url": "https://github.com/zalandoresearch/fashion-mnist"},
        "rows": {SPLITS[split][0]: r.rows for split, r in reports.items()},
        "class_counts": {SPLITS[split][0]: list(r.class_counts) for split, r in reports.items()},
        "class_names": list(CLASS_NAMES),
    }
