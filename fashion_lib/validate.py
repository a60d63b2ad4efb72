"""The validation circuit breaker: nothing trains on or publishes data that fails it.

Checks: the file is a non-empty plain-text CSV, the header is ``label,pixel1..pixel784``,
every row has 785 integer fields, pixels are 0..255, labels 0..9, no value is missing,
the row count is the expected one where known, and all ten classes are present.
Each failure is one :class:`DataValidationError` naming file, line and column; the
rules themselves live in :mod:`fashion_lib.csvformat`.
"""

from __future__ import annotations

import os
from pathlib import Path

from .csvformat import EXPECTED_ROWS, Report, check_values
from .csvio import read_rows
from .fsutil import regular_file

__all__ = ["EXPECTED_ROWS", "Report", "validate_csv"]


def validate_csv(path: str | os.PathLike[str], expected_rows: int | None = None) -> Report:
    """Run the circuit breaker on one CSV; raise :class:`DataValidationError` or return a report.

    ``expected_rows`` defaults to the official count for the official file names.
    """
    path = regular_file(Path(path), "a Fashion-MNIST CSV")
    if expected_rows is None:
        expected_rows = EXPECTED_ROWS.get(path.name)
    return check_values(path, read_rows(path), expected_rows)
