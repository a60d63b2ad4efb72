"""The validation circuit breaker: nothing trains on or publishes data that fails it.

Checks: the file is a non-empty plain-text CSV, the header is ``label,pixel1..pixel784``,
every row has 785 integer fields, pixels are 0..255, labels 0..9, no value is missing,
the row count is the expected one where known (:func:`known_rows`), and all ten classes
are present. Each failure is one :class:`DataValidationError` naming file, line and column;
the rules themselves live in :mod:`fashion_lib.csvformat`.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from .csvformat import EXPECTED_ROWS, Report, check_values
from .csvio import read_rows
from .fsutil import regular_file
from .settings import TEST_CSV, TRAIN_CSV

__all__ = ["EXPECTED_ROWS", "Report", "known_rows", "row_count", "validate_csv"]

_SPLIT_OF = {TRAIN_CSV: "train", TEST_CSV: "test"}  # a data package's file -> its split in quality.json
_QUALITY_JSON = "quality.json"  # fashion_lib.quality.report.REPORT_FILE, read without importing the quality code
_MAX_RECORD = 64 << 20  # a quality.json larger than this is no record of ours: not read


def validate_csv(path: str | os.PathLike[str], expected_rows: int | None = None) -> Report:
    """Run the circuit breaker on one CSV; raise :class:`DataValidationError` or return a report.

    ``expected_rows`` defaults to what :func:`known_rows` knows of the file: the count its data
    package recorded, or the official count for a conversion of the upstream files; else the
    row count is not checked (a subset named like the official files is still valid).
    """
    path = regular_file(Path(path), "a Fashion-MNIST CSV")
    if expected_rows is None:
        expected_rows = known_rows(path)
    return check_values(path, read_rows(path), expected_rows)


def known_rows(path: str | os.PathLike[str]) -> int | None:
    """The row count a CSV is known to need, or None where nothing says (no check).

    * a data package's CSV fetched with its ``quality.json`` (``fashion data fetch``, or the cache
      ``load_data`` fills): the row count that package recorded when it was published;
    * a CSV that ``fashion data prepare`` converted from the upstream IDX files (the conversion's
      stamp beside it names it): the official count, 60,000 or 10,000.

    The file's name alone means nothing: a package of a subset stores it under the official names.
    """
    path = Path(path)
    recorded = _recorded_rows(path)
    if recorded is not None:
        return recorded
    return EXPECTED_ROWS[path.name] if _converted(path) else None


def _recorded_rows(path: Path) -> int | None:
    """The rows of ``path``'s split in the data package's ``quality.json`` beside it, if it is one."""
    split = _SPLIT_OF.get(path.name)
    record = _json(path.parent / _QUALITY_JSON) if split else None
    candidate = record.get("candidate") if isinstance(record, dict) else None
    recorded = candidate.get(split) if isinstance(candidate, dict) else None
    rows = recorded.get("rows") if isinstance(recorded, dict) else None
    return row_count(rows)


def row_count(value: object) -> int | None:
    """``value`` if it is a row count a record may hold (a whole number, 0 or more), else None."""
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def _converted(path: Path) -> bool:
    """Whether the conversion of the upstream IDX files wrote ``path`` (its stamp beside it names it)."""
    from .conversion import _STAMP  # the stamp convert() writes beside the CSVs it made
    from .sources import RAW_FILES

    if path.name not in EXPECTED_ROWS:
        return False
    stamp = _json(path.parent / _STAMP)
    if not isinstance(stamp, dict) or stamp.get("source_sha256") != RAW_FILES:
        return False
    sizes = stamp.get("sizes")
    return isinstance(sizes, dict) and path.name in sizes


def _json(path: Path) -> Any:
    """The JSON document in ``path``, or None where there is none that can be read."""
    try:
        if not path.is_file() or path.stat().st_size > _MAX_RECORD:
            return None
        return json.loads(path.read_bytes())
    except (OSError, ValueError, RecursionError):
        return None
