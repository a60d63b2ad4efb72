"""The validation circuit breaker on a corpus of bad files, one clear message each."""

from __future__ import annotations

import gzip
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from csv_support import random_csv

from fashion_lib import csvio
from fashion_lib.csvio import HEADER, load_csv, write_csv
from fashion_lib.errors import DataValidationError
from fashion_lib.settings import display_path
from fashion_lib.validate import validate_csv

ROWS = 30


@pytest.fixture(scope="module")
def good_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return random_csv(tmp_path_factory.mktemp("good") / "good.csv", ROWS, seed=0)


def _lines(path: Path) -> list[str]:
    return path.read_text().splitlines()


def _with_cell(lines: list[str], line: int, column: int, value: str) -> list[str]:
    """Replace one cell (1-based line number in the file, 0-based column)."""
    fields = lines[line - 1].split(",")
    fields[column] = value
    return lines[: line - 1] + [",".join(fields)] + lines[line:]


def _drop_last_field(lines: list[str], line: int) -> list[str]:
    return lines[: line - 1] + [lines[line - 1].rsplit(",", 1)[0]] + lines[line:]


def _add_field(lines: list[str], line: int) -> list[str]:
    return lines[: line - 1] + [lines[line - 1] + ",0"] + lines[line:]


# name -> (how to make the bad file from the good lines, expected message pattern)
BAD = {
    "empty": (lambda ls: b"", r"bad\.csv: the file is empty; expected a header line"),
    "header_only": (lambda ls: (ls[0] + "\n").encode(), r"has a header but no data rows"),
    "wrong_header": (
        lambda ls: ("\n".join([ls[0].replace("pixel3,", "pixel_3,")] + ls[1:]) + "\n").encode(),
        r"line 1 \(header\), column 4: 'pixel_3', expected 'pixel3'",
    ),
    "783_pixels": (
        lambda ls: ("\n".join(_drop_last_field(ls, 5)) + "\n").encode(),
        r"line 5: 784 fields, expected 785 \(label \+ 784 pixels\)",
    ),
    "785_pixels": (lambda ls: ("\n".join(_add_field(ls, 7)) + "\n").encode(), r"line 7: 786 fields, expected 785"),
    "text_value": (
        lambda ls: ("\n".join(_with_cell(ls, 3, 12, "abc")) + "\n").encode(),
        r"line 3, column pixel12: 'abc' is not an integer; expected an integer 0\.\.255",
    ),
    "float_value": (
        lambda ls: ("\n".join(_with_cell(ls, 4, 100, "12.5")) + "\n").encode(),
        r"line 4, column pixel100: '12\.5' is not an integer",
    ),
    "negative": (
        lambda ls: ("\n".join(_with_cell(ls, 6, 784, "-3")) + "\n").encode(),
        r"line 6, column pixel784: -3 is out of range; expected an integer 0\.\.255",
    ),
    "pixel_256": (
        lambda ls: ("\n".join(_with_cell(ls, 8, 1, "256")) + "\n").encode(),
        r"line 8, column pixel1: 256 is out of range; expected an integer 0\.\.255",
    ),
    "label_10": (
        lambda ls: ("\n".join(_with_cell(ls, 9, 0, "10")) + "\n").encode(),
        r"line 9, column label: 10 is out of range; expected an integer 0\.\.9",
    ),
    "missing_cell": (
        lambda ls: ("\n".join(_with_cell(ls, 10, 50, "")) + "\n").encode(),
        r"line 10, column pixel50: missing value; expected an integer 0\.\.255",
    ),
    "truncated_last_line": (
        lambda ls: ("\n".join(ls)[:-1500]).encode(),
        rf"line {ROWS + 1}: \d+ fields, expected 785 \(label \+ 784 pixels\) \(is the file truncated\?\)",
    ),
    "non_utf8": (
        lambda ls: ("\n".join(ls) + "\n").encode().replace(b"\n", b"\n\xff", 3).replace(b"\n\xff", b"\n", 2),
        r"line 4: byte 0xff is not plain text; expected ASCII digits and commas",
    ),
    "gzip": (
        lambda ls: gzip.compress(("\n".join(ls) + "\n").encode()),
        r"this is a gzip file, not a CSV; decompress it first \(gunzip\)",
    ),
    "missing_class": (
        lambda ls: ("\n".join(ls[:1] + [row for row in ls[1:] if not row.startswith("7,")]) + "\n").encode(),
        r"no rows of class 7 \(Sneaker\); expected all ten classes",
    ),
}


@pytest.fixture(params=sorted(BAD))
def bad_file(request: pytest.FixtureRequest, good_csv: Path, tmp_path: Path) -> tuple[Path, str]:
    make, pattern = BAD[request.param]
    path = tmp_path / "bad.csv"
    path.write_bytes(make(_lines(good_csv)))
    return path, pattern


def test_good_file_passes_and_loads(good_csv: Path) -> None:
    report = validate_csv(good_csv)
    assert report.rows == ROWS and report.class_counts == (3,) * 10
    data = load_csv(good_csv)
    assert data.images.shape == (ROWS, 28, 28) and data.images.dtype == np.uint8
    assert list(data.labels) == [i % 10 for i in range(ROWS)]


def test_bad_file_gets_one_clear_message(bad_file: tuple[Path, str]) -> None:
    path, pattern = bad_file
    with pytest.raises(DataValidationError) as info:
        validate_csv(path)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(f"{display_path(path)}: ")
    assert re.search(pattern, message), message


def test_loading_refuses_bad_file(bad_file: tuple[Path, str]) -> None:
    path, _ = bad_file
    with pytest.raises(DataValidationError):
        load_csv(path)


def test_expected_row_count(good_csv: Path) -> None:
    with pytest.raises(DataValidationError, match=rf"{ROWS} data rows, expected 60000"):
        validate_csv(good_csv, expected_rows=60000)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(DataValidationError, match="no such file"):
        validate_csv(tmp_path / "nope.csv")


def test_crlf_line_endings_are_accepted(good_csv: Path, tmp_path: Path) -> None:
    path = tmp_path / "crlf.csv"
    path.write_bytes(good_csv.read_bytes().replace(b"\n", b"\r\n"))
    assert validate_csv(path).rows == ROWS
    assert np.array_equal(load_csv(path).images, load_csv(good_csv).images)


def test_header_matches_kaggle_layout() -> None:
    names = HEADER.split(",")
    assert names[0] == "label" and names[1] == "pixel1" and names[-1] == "pixel784" and len(names) == 785


def test_cli_validate_exit_codes(good_csv: Path, bad_file: tuple[Path, str]) -> None:
    path, pattern = bad_file
    run = subprocess.run(
        [sys.executable, "-m", "fashion_lib", "data", "validate", str(path)], capture_output=True, text=True
    )
    assert run.returncode == 1
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"fashion: error: {display_path(path)}: "), run.stderr
    assert "Traceback" not in run.stderr
    ok = subprocess.run(
        [sys.executable, "-m", "fashion_lib", "data", "validate", str(good_csv)], capture_output=True, text=True
    )
    assert ok.returncode == 0 and "OK, 30 rows" in ok.stdout


def _reference_csv(images: np.ndarray, labels: np.ndarray) -> bytes:
    """The writer's output spelled out row by row (the per-row formatting it replaced): the oracle."""
    rows = np.concatenate([labels.reshape(-1, 1), images.reshape(len(images), -1)], axis=1).tolist()
    return (HEADER + "\n" + "".join(",".join(str(v) for v in row) + "\n" for row in rows)).encode()


@pytest.mark.parametrize("rows", [1, 7, csvio._WRITE_ROWS, 2 * csvio._WRITE_ROWS + 3])
def test_write_csv_matches_reference_formatting(rows: int, tmp_path: Path) -> None:
    rng = np.random.default_rng(rows)
    images = rng.integers(0, 256, size=(rows, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, size=rows, dtype=np.uint8)
    edges = np.array([0, 9, 10, 99, 100, 255], np.uint8)  # each digit count, at both ends
    images[0, 0, : edges.size] = edges
    images[-1, -1, -edges.size :] = edges  # the last field of the last row is 255
    labels[0], labels[-1] = 9, 0
    written = write_csv(images, labels, tmp_path / "out.csv").read_bytes()
    assert written == _reference_csv(images, labels)
    assert [p.name for p in tmp_path.iterdir()] == ["out.csv"]  # no temporary file left
    assert np.array_equal(load_csv(tmp_path / "out.csv", all_classes=False).images, images)


def test_write_csv_other_integer_types_and_ranges(tmp_path: Path) -> None:
    images = np.arange(2 * 784).reshape(2, 28, 28) % 256  # int64, every value 0-255
    labels = np.array([3, 10], np.int64)  # a label 10 is written: values are range-checked on loading
    assert write_csv(images, labels, tmp_path / "ints.csv").read_bytes() == _reference_csv(images, labels)
    for bad in (images - 1, images + 1, images.astype(np.float32)):
        with pytest.raises(ValueError, match="integers 0-255"):
            write_csv(bad, labels, tmp_path / "bad.csv")
    with pytest.raises(ValueError):  # zero rows: refused, as before (reshape of an empty array)
        write_csv(np.zeros((0, 28, 28), np.uint8), np.zeros(0, np.uint8), tmp_path / "empty.csv")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ints.csv"]
