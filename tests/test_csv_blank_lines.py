"""Blank lines in a CSV: at the end (an editor's habit) they are ignored, LF or CRLF, any number, empty
or only spaces and tabs; elsewhere they are ``line N: empty line`` (or ``blank line``), the same from the
fast parser and the careful one."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from cli_support import cli, one_line
from csv_support import random_csv

from fashion_lib import csvformat, csvio
from fashion_lib.csvio import load_csv, load_pixels
from fashion_lib.errors import DataValidationError
from fashion_lib.settings import display_path
from fashion_lib.validate import validate_csv

ROWS = 20


@pytest.fixture(scope="module")
def good(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return random_csv(tmp_path_factory.mktemp("good") / "good.csv", ROWS, seed=1)


def _variant(good: Path, folder: Path, *, crlf: bool = False, tail: bytes = b"", blank_before: int = 0) -> Path:
    """``good`` with CRLF line endings, ``tail`` appended, and/or a blank line before file line ``blank_before``."""
    lines = good.read_bytes().split(b"\n")[:-1]
    if blank_before:
        lines.insert(blank_before - 1, b"")
    newline = b"\r\n" if crlf else b"\n"
    path = folder / "edited.csv"
    path.write_bytes(newline.join(lines) + newline + tail)
    return path


@pytest.mark.parametrize("crlf", [False, True], ids=["LF", "CRLF"])
@pytest.mark.parametrize("blank_lines", [1, 2, 5])
def test_blank_lines_at_the_end_are_ignored(good: Path, tmp_path: Path, crlf: bool, blank_lines: int) -> None:
    path = _variant(good, tmp_path, crlf=crlf, tail=(b"\r\n" if crlf else b"\n") * blank_lines)
    assert validate_csv(path).rows == ROWS
    expected, loaded = load_csv(good), load_csv(path)
    assert np.array_equal(loaded.images, expected.images) and np.array_equal(loaded.labels, expected.labels)


def test_a_last_line_without_newline_then_blank_crlf_lines(good: Path, tmp_path: Path) -> None:
    path = tmp_path / "odd.csv"
    path.write_bytes(good.read_bytes()[:-1] + b"\r\n\n\r\n")
    assert np.array_equal(load_csv(path).images, load_csv(good).images)


@pytest.mark.parametrize("crlf", [False, True], ids=["LF (fast parser)", "CRLF (careful parser)"])
def test_a_blank_line_in_the_middle_is_an_empty_line(good: Path, tmp_path: Path, crlf: bool) -> None:
    path = _variant(good, tmp_path, crlf=crlf, blank_before=7)
    with pytest.raises(
        DataValidationError, match=rf"^{re.escape(display_path(path))}: line 7: empty line; expected a data row"
    ):
        validate_csv(path)


def test_a_blank_line_that_starts_a_slice_is_found_at_its_line(
    good: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _variant(good, tmp_path, blank_before=9)
    monkeypatch.setattr(csvio, "_SLICE_BYTES", len(path.read_bytes().split(b"\n")[0]) + 1)  # one line a slice
    with pytest.raises(DataValidationError, match=rf"^{re.escape(display_path(path))}: line 9: empty line"):
        load_csv(path)


def test_a_problem_before_the_blank_line_is_named_first(good: Path, tmp_path: Path) -> None:
    path = _variant(good, tmp_path, blank_before=7)
    path.write_bytes(path.read_bytes().replace(b"\n", b"\nx", 3).replace(b"\nx", b"\n", 2))  # line 4 starts with x
    with pytest.raises(DataValidationError, match=r"line 4, column label: 'x\d+' is not an integer"):
        validate_csv(path)


def test_a_header_then_only_blank_lines_has_no_data_rows(good: Path, tmp_path: Path) -> None:
    path = tmp_path / "empty.csv"
    path.write_bytes(good.read_bytes().split(b"\n")[0] + b"\r\n\r\n\n")
    with pytest.raises(
        DataValidationError, match=rf"^{re.escape(display_path(path))}: the file has a header but no data rows$"
    ):
        validate_csv(path)


def test_commands_accept_a_trailing_blank_line(good: Path, tmp_path: Path) -> None:
    path = _variant(good, tmp_path, tail=b"\n")
    done = cli("data", "validate", str(path))
    assert done.returncode == 0, done.stderr
    broken = _variant(good, tmp_path, blank_before=5)
    done = cli("data", "validate", str(broken))
    assert done.returncode == 1 and one_line(done).endswith(
        f": {display_path(broken)}: line 5: empty line; expected a data row (blank lines are allowed only at the end)"
    )


@pytest.mark.parametrize("tail", [b"   \n", b"\t\n  \r\n\n", b" \t "], ids=["spaces", "mixed", "no newline"])
def test_lines_of_only_spaces_or_tabs_at_the_end_are_ignored(good: Path, tmp_path: Path, tail: bytes) -> None:
    path = _variant(good, tmp_path, tail=tail)
    assert validate_csv(path).rows == ROWS
    assert np.array_equal(load_csv(path).images, load_csv(good).images)


def test_a_line_of_spaces_in_the_middle_is_a_blank_line(good: Path, tmp_path: Path) -> None:
    path = _variant(good, tmp_path, blank_before=6)
    path.write_bytes(path.read_bytes().replace(b"\n\n", b"\n  \t\n", 1))
    with pytest.raises(
        DataValidationError,
        match=rf"^{re.escape(display_path(path))}: line 6: blank line \(only spaces or tabs\); expected a data row",
    ):
        validate_csv(path)


def test_unlabelled_rows_end_their_blank_lines_alike(good: Path, tmp_path: Path) -> None:
    lines = good.read_bytes().split(b"\n")[:-1]
    unlabelled = [line.split(b",", 1)[1] for line in lines]
    path = tmp_path / "pixels.csv"
    path.write_bytes(b"\n".join(unlabelled) + b"\n  \n\t\n")
    assert np.array_equal(load_pixels(path), load_csv(good).images)


def test_the_line_checker_calls_an_empty_line_empty(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    with pytest.raises(DataValidationError, match=rf"^{re.escape(display_path(path))}: line 3: empty line; expected a"):
        csvformat.check_line(path, "\r", 3)
