"""The CSV format, ``label,pixel1..pixel784``, and its careful line-by-line rules.

The constants every reader and writer shares, and the checks that name the file, line
and column of the first problem: the fast parser (:mod:`fashion_lib.csvio`) hands them
any slice that looks wrong, and the circuit breaker (:mod:`fashion_lib.validate`) runs
:func:`check_values` on every parsed file.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import numpy as np

from .classes import CLASS_NAMES, NUM_CLASSES
from .errors import DataValidationError
from .settings import TEST_CSV, TRAIN_CSV, display_path

PIXELS = 28 * 28
FIELDS = PIXELS + 1
HEADER = "label," + ",".join(f"pixel{i}" for i in range(1, PIXELS + 1))
EXPECTED_ROWS = {TRAIN_CSV: 60_000, TEST_CSV: 10_000}
_EXPECTED_HEADER = "label,pixel1,...,pixel784"


class Report(NamedTuple):
    """What a passing file holds."""

    path: str
    rows: int
    class_counts: tuple[int, ...]

    def summary(self) -> str:
        return f"{display_path(self.path)}: OK, {self.rows} rows, {NUM_CLASSES} classes ({min(self.class_counts)}-{max(self.class_counts)} rows each)"


def _fail(path: Path, where: str, what: str) -> DataValidationError:
    """The error naming the file as the reader can find it (``./x.csv``, ``~/x.csv`` or the path), then where."""
    location = f"{display_path(path)}: {where}: " if where else f"{display_path(path)}: "
    return DataValidationError(location + what)


def _column_name(index: int) -> str:
    return "label" if index == 0 else f"pixel{index}"


def check_header(path: Path, raw: np.ndarray) -> int:
    """Check the file's kind and header; return the offset where the data rows begin."""
    if raw.size == 0:
        raise _fail(path, "", f"the file is empty; expected a header line '{_EXPECTED_HEADER}' and data rows")
    if raw[:2].tobytes() == b"\x1f\x8b":
        raise _fail(path, "", "this is a gzip file, not a CSV; decompress it first (gunzip)")
    newlines = np.flatnonzero(raw[: len(HEADER) + 4096] == 10)
    end = int(newlines[0]) + 1 if newlines.size else raw.size
    header = _decode(path, raw[:end].tobytes(), 1).rstrip("\r\n")
    if header != HEADER:
        names = header.split(",")
        if len(names) != FIELDS:
            raise _fail(path, "line 1 (header)", f"{len(names)} columns, expected {FIELDS} ({_EXPECTED_HEADER})")
        i = next(i for i, (a, b) in enumerate(zip(names, HEADER.split(","))) if a != b)
        raise _fail(path, f"line 1 (header), column {i + 1}", f"'{names[i][:40]}', expected '{_column_name(i)}'")
    if end >= raw.size:
        raise _fail(path, "", "the file has a header but no data rows")
    return end


def _decode(path: Path, data: bytes, line: int) -> str:
    try:
        return data.decode("ascii")
    except UnicodeDecodeError as exc:
        bad = data[exc.start]
        raise _fail(
            path, f"line {line}", f"byte 0x{bad:02x} is not plain text; expected ASCII digits and commas"
        ) from None


def check_line(path: Path, text: str, line: int) -> list[int]:
    """The 785 values of one data line (without its newline); raise for its first problem."""
    if not text.strip():
        raise _fail(path, f"line {line}", "empty line; expected a data row (label + 784 pixels)")
    fields = text.rstrip("\r").split(",")
    if len(fields) != FIELDS:
        hint = " (is the file truncated?)" if len(fields) < FIELDS else ""
        raise _fail(path, f"line {line}", f"{len(fields)} fields, expected {FIELDS} (label + 784 pixels){hint}")
    values = []
    for i, value in enumerate(fields):
        column = _column_name(i)
        limit = 9 if i == 0 else 255
        expected = f"expected an integer 0..{limit}"
        if value == "":
            raise _fail(path, f"line {line}, column {column}", f"missing value; {expected}")
        if not value.lstrip("-").isdigit() or not value.isascii():
            raise _fail(path, f"line {line}, column {column}", f"'{value[:20]}' is not an integer; {expected}")
        if not 0 <= int(value) <= limit:
            raise _fail(path, f"line {line}, column {column}", f"{value} is out of range; {expected}")
        values.append(int(value))
    return values


def parse_lines_carefully(path: Path, data: bytes, first_line: int) -> np.ndarray:
    """Parse lines the fast parser rejected, one by one: raise for the first problem.

    Files the fast path cannot read but that are still valid (Windows line endings,
    leading zeros) come back as ``rows x 785`` values.
    """
    rows = [
        check_line(path, _decode(path, raw, first_line + i), first_line + i)
        for i, raw in enumerate(data.split(b"\n")[:-1])
    ]
    return np.array(rows, dtype=np.uint16).reshape(-1, 785)


def check_values(path: Path, rows: np.ndarray, expected_rows: int | None = None, *, all_classes: bool = True) -> Report:
    """Range, row-count and (for a dataset) all-classes checks on parsed rows (``N x 785``, label first)."""
    for column, limit in ((slice(0, 1), 9), (slice(1, None), 255)):
        block = rows[:, column]
        bad = np.argwhere(block > limit)
        if bad.size:
            r, c = (int(x) for x in bad[0])
            c += column.start
            raise _fail(
                path,
                f"line {r + 2}, column {_column_name(c)}",
                f"{int(rows[r, c])} is out of range; expected an integer 0..{limit}",
            )
    if expected_rows is not None and len(rows) != expected_rows:
        raise _fail(path, "", f"{len(rows)} data rows, expected {expected_rows}")
    counts = np.bincount(rows[:, 0], minlength=NUM_CLASSES)
    missing = [i for i in range(NUM_CLASSES) if counts[i] == 0] if all_classes else []
    if missing:
        names = ", ".join(f"{i} ({CLASS_NAMES[i]})" for i in missing)
        raise _fail(path, "", f"no rows of class {names}; expected all ten classes")
    return Report(str(path), len(rows), tuple(int(c) for c in counts))
