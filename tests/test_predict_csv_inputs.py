"""What ``fashion predict`` makes of common CSV mistakes and variants: a gzip file is named as one
whatever its suffix, a UTF-8 byte order mark is skipped (in the data commands too), UTF-16 is named,
and a CSV of unlabelled pixel rows (``pixel1..pixel784``) is classified."""

from __future__ import annotations

import gzip
import re
from pathlib import Path

import numpy as np
import pytest
from cli_support import cli, one_line
from csv_support import random_csv

from fashion_lib.csvio import HEADER, load_csv
from fashion_lib.errors import ConfigError, DataValidationError
from fashion_lib.inputs import load_images
from fashion_lib.settings import display_path
from fashion_lib.validate import validate_csv

ROWS = 12
PIXEL_HEADER = HEADER.split(",", 1)[1]


@pytest.fixture(scope="module")
def good(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return random_csv(tmp_path_factory.mktemp("good") / "good.csv", ROWS, seed=2)


def _unlabelled(good: Path, path: Path, *, newline: str = "\n") -> Path:
    lines = good.read_text().splitlines()
    path.write_text(newline.join([PIXEL_HEADER] + [line.split(",", 1)[1] for line in lines[1:]]) + newline)
    return path


@pytest.mark.parametrize("name", ["good.csv.gz", "gz.csv", "rows.png"])
def test_a_gzip_file_is_named_as_one_whatever_it_is_called(good: Path, tmp_path: Path, name: str) -> None:
    (tmp_path / name).write_bytes(gzip.compress(good.read_bytes()))
    with pytest.raises(ConfigError, match=r"this is a gzip file, not a PNG or CSV; decompress it first \(gunzip\)$"):
        load_images([tmp_path / name])


def test_a_csv_without_the_csv_suffix_is_read_by_its_header(good: Path, tmp_path: Path) -> None:
    (tmp_path / "rows.txt").write_bytes(good.read_bytes())
    assert np.array_equal(load_images([tmp_path / "rows.txt"]).images, load_csv(good).images)


def test_a_utf8_byte_order_mark_is_skipped(good: Path, tmp_path: Path) -> None:
    path = tmp_path / "excel.csv"
    path.write_bytes(b"\xef\xbb\xbf" + good.read_bytes())
    assert validate_csv(path).rows == ROWS
    assert np.array_equal(load_csv(path).images, load_csv(good).images)
    inputs = load_images([path])
    assert np.array_equal(inputs.images, load_csv(good).images) and inputs.sources[0] == f"{path}:2"


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be"])
def test_utf16_text_is_named(good: Path, tmp_path: Path, encoding: str) -> None:
    path = tmp_path / "wide.csv"
    path.write_bytes(
        ("\ufeff" + good.read_text()).encode(encoding) if encoding.endswith("be") else good.read_text().encode(encoding)
    )
    said = f"{display_path(path)}: this file is UTF-16 text; save it as UTF-8 (or ASCII) CSV"
    with pytest.raises(DataValidationError) as caught:
        validate_csv(path)
    assert str(caught.value) == said
    with pytest.raises(ConfigError) as caught:
        load_images([path])
    assert str(caught.value) == said


@pytest.mark.parametrize("newline", ["\n", "\r\n"], ids=["LF", "CRLF"])
def test_unlabelled_pixel_rows_are_images_to_classify(good: Path, tmp_path: Path, newline: str) -> None:
    path = _unlabelled(good, tmp_path / "unlabelled.csv", newline=newline)
    inputs = load_images([path])
    assert np.array_equal(inputs.images, load_csv(good).images)
    assert inputs.sources == [f"{path}:{line}" for line in range(2, ROWS + 2)]


def test_unlabelled_rows_are_still_refused_as_data(good: Path, tmp_path: Path) -> None:
    path = _unlabelled(good, tmp_path / "unlabelled.csv")
    with pytest.raises(DataValidationError, match=r"line 1 \(header\): 784 columns, expected 785"):
        validate_csv(path)


@pytest.mark.parametrize(
    ("edit", "said"),
    [
        (
            lambda ls: ls[:3] + [ls[3].rsplit(",", 1)[0]] + ls[4:],
            r"line 4: 783 fields, expected 784 \(pixel1\.\.pixel784, no label\)",
        ),
        (
            lambda ls: ls[:4] + [ls[4].replace(",", ",x", 1)] + ls[5:],
            r"line 5, column pixel2: 'x\d+' is not an integer",
        ),
        (lambda ls: ls[:5] + ["256," + ls[5].split(",", 1)[1]] + ls[6:], r"line 6, column pixel1: 256 is out of range"),
        (lambda ls: ls[:6] + [""] + ls[6:], r"line 7: empty line"),
        (
            lambda ls: [ls[0].replace("pixel9,", "p9,")] + ls[1:],
            r"line 1 \(header\), column 9: 'p9', expected 'pixel9'",
        ),
    ],
    ids=["783 pixels", "text", "256", "blank line", "header"],
)
def test_a_bad_unlabelled_row_is_named(good: Path, tmp_path: Path, edit, said: str) -> None:
    from fashion_lib.csvio import load_pixels

    path = _unlabelled(good, tmp_path / "unlabelled.csv")
    path.write_text("\n".join(edit(path.read_text().splitlines())) + "\n")
    with pytest.raises(ConfigError, match=rf"^{re.escape(display_path(path))}: {said}"):
        load_images([path])
    with pytest.raises(DataValidationError, match=said):
        load_pixels(path)


def test_predict_classifies_unlabelled_rows_and_names_a_gzip_file(good: Path, tmp_path: Path) -> None:
    import keras

    tiny = keras.Sequential(
        [keras.Input(shape=(28, 28)), keras.layers.Flatten(), keras.layers.Dense(10, activation="softmax")]
    )
    tiny.save(tmp_path / "tiny.keras")
    unlabelled = _unlabelled(good, tmp_path / "unlabelled.csv")
    done = cli("predict", str(unlabelled), str(good), "--model", str(tmp_path / "tiny.keras"))
    assert done.returncode == 0, done.stderr
    rows = [line.split("\t") for line in done.stdout.splitlines()]
    assert [row[0] for row in rows[:ROWS]] == [f"{unlabelled}:{line}" for line in range(2, ROWS + 2)]
    assert [row[1:] for row in rows[:ROWS]] == [row[1:] for row in rows[ROWS:]]  # the same images, the same classes
    (tmp_path / "good.csv.gz").write_bytes(gzip.compress(good.read_bytes()))
    done = cli("predict", str(tmp_path / "good.csv.gz"), "--model", str(tmp_path / "tiny.keras"))
    assert done.returncode == 2 and one_line(done).endswith(
        "good.csv.gz: this is a gzip file, not a PNG or CSV; decompress it first (gunzip)"
    )
