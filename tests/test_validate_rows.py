"""Which row count validation expects: the one a data package recorded, the official one only for a
conversion of the upstream files, never one read off a file's name (a subset is stored under the
official names). The notebook's validation cell and ``fashion data validate`` on a fetched package."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_support import cli
from csv_support import fashion_csvs

from fashion_lib import data, settings
from fashion_lib.errors import DataValidationError
from fashion_lib.validate import known_rows, validate_csv

NAME = "sub/data"
CSVS = (settings.TRAIN_CSV, settings.TEST_CSV)


@pytest.fixture
def published(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A registry holding a data package of 40 training and 20 test rows (as ``fashion data push`` makes it)."""
    monkeypatch.setenv("FASHION_HOME", str(tmp_path / "home"))
    registry = tmp_path / "registry"
    csvs = fashion_csvs(tmp_path / "csvs", seed=3)
    data.publish_csvs(csvs, registry=str(registry), name=NAME, accept="random test pixels", log=lambda _: None)
    return registry


def _truncate(path: Path, rows: int) -> None:
    path.write_text("".join(path.read_text().splitlines(keepends=True)[: rows + 1]))


def test_the_explore_notebooks_validation_cell_passes_on_a_subset_package(published: Path) -> None:
    version = data.load_data(registry=str(published), name=NAME)
    rows = {}
    for name in CSVS:  # explore.ipynb's cell, as it is written
        rows[name] = validate_csv(version.files[name]).rows
    assert rows == {settings.TRAIN_CSV: 40, settings.TEST_CSV: 20}


def test_a_fetched_package_validates_against_the_rows_it_recorded(published: Path, tmp_path: Path) -> None:
    dest = tmp_path / "fetched"
    data.fetch_data(registry=str(published), name=NAME, dest=dest)
    assert [known_rows(dest / name) for name in CSVS] == [40, 20]
    done = cli("data", "validate", *(str(dest / name) for name in CSVS))
    assert done.returncode == 0, done.stderr
    assert "OK, 40 rows" in done.stdout and "OK, 20 rows" in done.stdout
    _truncate(dest / settings.TRAIN_CSV, 39)  # a fetched file that lost a row still fails
    with pytest.raises(DataValidationError, match="39 data rows, expected 40"):
        validate_csv(dest / settings.TRAIN_CSV)


def test_an_official_name_alone_expects_no_row_count(tmp_path: Path) -> None:
    csvs = fashion_csvs(tmp_path / "csvs", seed=4)
    named = tmp_path / "folder" / settings.TRAIN_CSV
    named.parent.mkdir()
    named.write_bytes(csvs["train"].read_bytes())
    assert known_rows(named) is None
    assert validate_csv(named).rows == 40
    with pytest.raises(DataValidationError, match="40 data rows, expected 60000"):
        validate_csv(named, expected_rows=60000)  # --rows still applies


def test_a_conversion_of_the_upstream_files_expects_the_official_counts(tmp_path: Path) -> None:
    from fashion_lib.conversion import _STAMP
    from fashion_lib.sources import RAW_FILES

    csvs = fashion_csvs(tmp_path / "csvs", seed=5)
    folder = tmp_path / "data"  # as convert() leaves it, here with a damaged (short) training file
    folder.mkdir()
    for split, name in (("train", settings.TRAIN_CSV), ("test", settings.TEST_CSV)):
        (folder / name).write_bytes(csvs[split].read_bytes())
    sizes = {name: 1 for name in CSVS}
    (folder / _STAMP).write_text(json.dumps({"source_sha256": RAW_FILES, "sizes": sizes}))
    assert [known_rows(folder / name) for name in CSVS] == [60_000, 10_000]
    with pytest.raises(DataValidationError, match="40 data rows, expected 60000"):
        validate_csv(folder / settings.TRAIN_CSV)
    (folder / _STAMP).write_text(json.dumps({"source_sha256": {"other": "files"}, "sizes": sizes}))
    assert known_rows(folder / settings.TRAIN_CSV) is None


@pytest.mark.parametrize(
    "record", ["not json", "[]", '{"candidate": {"train": 5}}', '{"candidate": {"train": {"rows": true}}}']
)
def test_an_unreadable_record_expects_no_row_count(tmp_path: Path, record: str) -> None:
    (tmp_path / "quality.json").write_text(record)
    assert known_rows(tmp_path / settings.TRAIN_CSV) is None


def test_data_push_takes_a_subset_stored_under_the_official_names(tmp_path: Path) -> None:
    """``fashion data push`` of a fetched subset package's files (or any files so named): before, the
    quality gate's format check expected 60,000 rows of any ``fashion-mnist_train.csv``."""
    csvs = fashion_csvs(tmp_path / "csvs", seed=6)
    folder = tmp_path / "named"
    folder.mkdir()
    for split, name in (("train", settings.TRAIN_CSV), ("test", settings.TEST_CSV)):
        (folder / name).write_bytes(csvs[split].read_bytes())
    done = cli(
        "data",
        "push",
        *("--train", str(folder / settings.TRAIN_CSV), "--test", str(folder / settings.TEST_CSV)),
        *("--name", "again/data", "--accept", "random test pixels", "--registry", str(tmp_path / "reg")),
        FASHION_HOME=str(tmp_path / "home"),
    )
    assert done.returncode == 0, done.stderr
    assert "Published again/data@" in done.stdout + done.stderr
