"""Write and load the Kaggle-layout CSVs: ``label,pixel1,...,pixel784``, integers.

Loading is a vectorised numpy parser working on ~8 MB slices of the file: it checks
the structure of every slice (field counts, digits only, 1-3 digit fields) and hands
any slice that looks wrong to :mod:`fashion_lib.csvformat`, which finds the exact line
and column. See ``benchmarks/csv_load_bench.py`` for how it compares with pandas.
A UTF-8 byte order mark and blank lines at the end (empty, or only spaces and tabs) are
ignored; a blank line elsewhere is an error. :func:`load_pixels` also reads unlabelled rows (images to classify).

Writing is vectorised too: each value becomes a 4-byte slot by table lookup, and the
NUL padding is dropped (``benchmarks/csv_write_bench.py``).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import NamedTuple

import numpy as np

from . import csvformat
from .classes import CLASS_NAMES
from .csvformat import FIELDS, HEADER, PIXELS
from .errors import DataValidationError
from .fsutil import atomic_path, regular_file
from .settings import display_path

__all__ = ["FIELDS", "HEADER", "PIXELS", "PIXEL_HEADER", "Dataset", "load_csv", "load_pixels", "read_rows", "write_csv"]
PIXEL_HEADER = HEADER.split(",", 1)[1]  # unlabelled rows, images to classify: pixel1,...,pixel784
_COMMA, _NEWLINE, _CR, _ZERO = 44, 10, 13, 48
_SPACE, _TAB = 32, 9
_SLICE_BYTES = 8 << 20


class Dataset(NamedTuple):
    """Images (``N x 28 x 28`` uint8), labels (``N`` uint8) and the class names."""

    images: np.ndarray
    labels: np.ndarray
    class_names: tuple[str, ...] = CLASS_NAMES

    def __len__(self) -> int:
        return len(self.labels)


def _field_table(separator: int) -> np.ndarray:
    """For each value 0-255, its text as a 4-byte slot: decimal digits, ``separator``, NUL padding."""
    slots = np.zeros((256, 4), np.uint8)
    for value in range(256):
        text = str(value).encode() + bytes([separator])
        slots[value, : len(text)] = list(text)
    return slots.view(np.uint32).ravel()  # one uint32 per value: a gather copies all 4 bytes


_FIELD, _LAST_FIELD = _field_table(_COMMA), _field_table(_NEWLINE)
_WRITE_ROWS = 2048  # rows formatted per block: ~6 MB of slots, ~5 MB of text


def _format_block(block: np.ndarray) -> bytes:
    """``rows x fields`` uint8 values as CSV text: fields joined by ',', each row ending in '\\n'.

    Every field becomes a 4-byte slot (digits, separator, NUL padding) by table lookup;
    deleting the NUL bytes leaves the text (``bytes.translate`` does that faster than a
    numpy boolean mask).
    """
    slots = _FIELD[block]
    slots[:, -1] = _LAST_FIELD[block[:, -1]]
    return slots.tobytes().translate(None, b"\0")


def write_csv(images: np.ndarray, labels: np.ndarray, path: Path) -> Path:
    """Write images and labels as a CSV (atomically: temporary name, then rename).

    Values must be integers 0-255 (uint8 arrays, as the IDX readers give).
    """
    if len(images) != len(labels):
        raise ValueError(f"{len(images)} images but {len(labels)} labels")
    rows = np.concatenate([labels.reshape(-1, 1), images.reshape(len(images), -1)], axis=1)
    if rows.dtype != np.uint8:
        if not (rows.dtype == np.bool_ or np.issubdtype(rows.dtype, np.integer)):
            raise ValueError(f"images and labels must be integers 0-255, not {rows.dtype}")
        if rows.size and (rows.min() < 0 or rows.max() > 255):
            raise ValueError(f"images and labels must be integers 0-255, found {rows.min()}..{rows.max()}")
        rows = rows.astype(np.uint8)
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        fh.write(HEADER.encode() + b"\n")
        for start in range(0, len(rows), _WRITE_ROWS):
            fh.write(_format_block(rows[start : start + _WRITE_ROWS]))
    return path


def _parse_slice(chunk: np.ndarray, fields: int = FIELDS) -> np.ndarray | None:
    """Values of a slice of whole lines as ``rows x fields`` uint16, or None if malformed.

    Every field is one to three digits, so a field's value is read from the (up to)
    three bytes before its separator; four gathers replace a per-byte parse.
    """
    is_sep = (chunk == _COMMA) | (chunk == _NEWLINE)
    if np.any(((chunk - np.uint8(_ZERO)) > 9) & ~is_sep):  # neither a digit nor a separator
        return None
    ends = np.flatnonzero(is_sep)
    if ends.size == 0 or ends.size % fields:
        return None
    line_ends = ends[fields - 1 :: fields]
    if np.count_nonzero(chunk == _NEWLINE) != line_ends.size or np.any(chunk[line_ends] != _NEWLINE):
        return None
    # Digits as 0..9; separators wrap to >= 10. Looking back past the first field wraps to
    # the slice's last byte, a newline: a separator.
    zero = np.uint8(_ZERO)
    ones, tens, hundreds, extra = (chunk[ends - k] - zero for k in (1, 2, 3, 4))
    if ones.max() >= 10:  # an empty field
        return None
    has_tens = tens < 10
    has_hundreds = has_tens & (hundreds < 10)
    if np.any(has_hundreds & (extra < 10)):  # four or more digits
        return None
    value = np.where(has_hundreds, hundreds, 0).astype(np.uint16) * 100
    value += np.where(has_tens, tens, 0) * np.uint8(10) + ones
    return value.reshape(-1, fields)


def _slices(body: np.ndarray) -> Iterator[tuple[int, np.ndarray]]:
    """Yield (first line index, slice) pieces of ``body`` that end on a newline."""
    start, line = 0, 0
    while start < body.size:
        stop = min(start + _SLICE_BYTES, body.size)
        if stop < body.size:
            stop = (
                start + int(np.flatnonzero(body[start:stop] == _NEWLINE)[-1]) + 1
                if np.any(body[start:stop] == _NEWLINE)
                else body.size
            )
        piece = body[start:stop]
        yield line, piece
        line += int(np.count_nonzero(piece == _NEWLINE))
        start = stop


def _file_bytes(path: Path) -> np.ndarray:
    """The file's bytes, a UTF-8 byte order mark (Excel's "CSV UTF-8") skipped; UTF-16 text refused."""
    raw = np.fromfile(regular_file(path, "a Fashion-MNIST CSV"), dtype=np.uint8)
    if raw[:2].tobytes() in (b"\xff\xfe", b"\xfe\xff"):
        raise DataValidationError(f"{display_path(path)}: this file is UTF-16 text; save it as UTF-8 (or ASCII) CSV")
    return raw[3:] if raw[:3].tobytes() == b"\xef\xbb\xbf" else raw


def _without_blank_tail(path: Path, body: np.ndarray) -> np.ndarray:
    """``body`` without the blank lines at its end (LF or CRLF, any number, empty or only spaces and tabs),
    ending in one newline."""
    end = body.size
    while end:  # from the end, a block at a time: usually one block of a few bytes
        tail = body[max(0, end - 4096) : end]
        text = np.flatnonzero((tail != _NEWLINE) & (tail != _CR) & (tail != _SPACE) & (tail != _TAB))
        if text.size:
            end += int(text[-1]) + 1 - tail.size
            break
        end -= tail.size
    if end == 0:
        raise DataValidationError(f"{display_path(path)}: the file has a header but no data rows")
    newline = np.flatnonzero(body[end:] == _NEWLINE)  # what follows ``end`` is only white space
    if newline.size:
        return body[: end + int(newline[0]) + 1]
    return np.concatenate([body[:end], np.array([_NEWLINE], np.uint8)])  # no newline at the end: one is added


_BLANK_LINE = re.compile(rb"^[ \t\r]*$", re.MULTILINE)


def _check_pixel_lines(path: Path, data: bytes, first_line: int) -> np.ndarray:
    """The careful checker for unlabelled rows: the field count here, each value by the data layout's rules."""
    rows = []
    for i, line in enumerate(data.split(b"\n")[:-1]):
        if line.count(b",") != PIXELS - 1:
            found = line.count(b",") + 1
            raise DataValidationError(
                f"{display_path(path)}: line {first_line + i}: {found} fields, expected {PIXELS} (pixel1..pixel784, no label)"
            )
        rows.append(csvformat.parse_lines_carefully(path, b"0," + line + b"\n", first_line + i))
    return np.concatenate(rows) if rows else np.empty((0, FIELDS), np.uint16)


def _parse_carefully(path: Path, piece: np.ndarray, first_line: int, fields: int) -> np.ndarray:
    """Lines the fast parser rejected, one by one (``rows x 785``; unlabelled rows get label 0).

    A blank line is ``line N: empty line`` (only blank lines at the end of a file are ignored),
    unless a line before it has a problem of its own.
    """
    data = piece.tobytes()
    check = csvformat.parse_lines_carefully if fields == FIELDS else _check_pixel_lines
    blank = _BLANK_LINE.search(data, 0, len(data) - 1)  # the text after the final newline is no line
    if blank is None:
        return check(path, data, first_line)
    check(path, data[: blank.start()], first_line)
    line = first_line + data.count(b"\n", 0, blank.start())
    what = "empty line" if not blank.group().strip(b"\r") else "blank line (only spaces or tabs)"
    raise DataValidationError(
        f"{display_path(path)}: line {line}: {what}; expected a data row (blank lines are allowed only at the end)"
    )


def _rows(path: Path, body: np.ndarray, fields: int) -> np.ndarray:
    """The data rows after the header as ``rows x 785`` uint16, structure-checked."""
    body = _without_blank_tail(path, body)

    def parse(item: tuple[int, np.ndarray]) -> np.ndarray:
        first_line, piece = item
        values = _parse_slice(piece, fields)
        if values is None:
            return _parse_carefully(path, piece, first_line + 2, fields)
        if fields == FIELDS:
            return values
        labelled = np.zeros((len(values), FIELDS), np.uint16)
        labelled[:, 1:] = values
        return labelled

    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:  # numpy frees the GIL
        parts = list(pool.map(parse, _slices(body)))
    return np.concatenate(parts)


def read_rows(path: Path) -> np.ndarray:
    """All data rows of a CSV as ``rows x 785`` uint16 (label first), structure-checked.

    Blank lines at the end of the file are ignored, and a UTF-8 byte order mark at its start.
    Raises :class:`~fashion_lib.errors.DataValidationError` naming line and column
    for the first problem found; values are range-checked by the caller.
    """
    path = Path(path)
    raw = _file_bytes(path)
    return _rows(path, raw[csvformat.check_header(path, raw) :], FIELDS)


def load_csv(path: str | os.PathLike[str], *, expected_rows: int | None = None, all_classes: bool = True) -> Dataset:
    """Load a Fashion-MNIST CSV into uint8 arrays, validating it on the way.

    ``all_classes=False`` accepts files that hold only some classes (images to classify).
    """
    path = Path(path)
    rows = read_rows(path)
    csvformat.check_values(path, rows, expected_rows, all_classes=all_classes)
    images = rows[:, 1:].astype(np.uint8).reshape(-1, 28, 28)
    return Dataset(images, rows[:, 0].astype(np.uint8))


def _pixel_header_end(path: Path, raw: np.ndarray) -> int | None:
    """Where the rows begin if the header is ``pixel1,...,pixel784`` (no label column); else None.

    A 784-column header that names other columns is refused here, naming the first wrong one.
    """
    newlines = np.flatnonzero(raw[: len(PIXEL_HEADER) + 4096] == _NEWLINE)
    end = int(newlines[0]) + 1 if newlines.size else raw.size
    names = raw[:end].tobytes().rstrip(b"\r\n").split(b",")
    if len(names) != PIXELS or not all(name.isascii() for name in names) or names[0] == b"label":
        return None
    for i, name in enumerate(names, 1):
        if name != f"pixel{i}".encode():
            raise DataValidationError(
                f"{display_path(path)}: line 1 (header), column {i}: '{name[:40].decode()}', expected 'pixel{i}' "
                "(an unlabelled CSV's header is pixel1,...,pixel784)"
            )
    return end


def load_pixels(path: str | os.PathLike[str]) -> np.ndarray:
    """The images of a CSV to classify, ``N x 28 x 28`` uint8, validated: the data layout (any
    classes), or unlabelled rows of 784 pixels under a ``pixel1,...,pixel784`` header."""
    path = Path(path)
    raw = _file_bytes(path)
    start = _pixel_header_end(path, raw)
    if start is None:  # the data layout, checked as load_csv checks it
        rows = _rows(path, raw[csvformat.check_header(path, raw) :], FIELDS)
    else:
        rows = _rows(path, raw[start:], PIXELS)
    csvformat.check_values(path, rows, all_classes=False)
    return rows[:, 1:].astype(np.uint8).reshape(-1, 28, 28)
