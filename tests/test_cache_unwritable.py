"""A fetch into the cache of fetched versions (train, evaluate, run) that cannot write there names the cache
and the setting that places it: the culprit is the data folder chosen (FASHION_HOME, FASHION_DATA_DIR), not
the fetch. Before: only 'cannot write into <home>/data/packages/...', which a user who never chose that
folder (the project folder, by default) could not act on."""

from __future__ import annotations

from pathlib import Path

import pytest
from csv_support import fashion_csvs

from fashion_lib import data, registry
from fashion_lib.errors import DestinationError


@pytest.fixture
def published(tmp_path: Path) -> str:
    reg = str(tmp_path / "reg")
    data.publish_csvs(fashion_csvs(tmp_path / "csv", seed=1), registry=reg, name="t/data", accept="random pixels")
    return reg


@pytest.mark.parametrize(
    ("variable", "said"),
    [
        ("FASHION_HOME", "in FASHION_HOME's data folder, {data}: set FASHION_HOME or FASHION_DATA_DIR to a folder"),
        ("FASHION_DATA_DIR", "in FASHION_DATA_DIR, {data}: set it to a folder you can write"),
    ],
)
def test_an_unwritable_cache_names_the_setting_that_places_it(
    published: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, variable: str, said: str
) -> None:
    home = tmp_path / "home"
    (home / "data").mkdir(parents=True)
    (home / "data" / "packages").write_text("a file where the cache's folder goes")  # unwritable, even for root
    monkeypatch.setenv("FASHION_HOME", str(home))
    if variable == "FASHION_DATA_DIR":
        monkeypatch.setenv("FASHION_DATA_DIR", str(home / "data"))
    with pytest.raises(DestinationError) as refused:
        registry.fetch_to_cache("t/data", registry=published)
    line = str(refused.value)
    assert line.startswith(f"cannot write into {home / 'data' / 'packages' / 't__data'}")
    assert "(the cache of fetched versions, " + said.format(data=home / "data") in line


def test_a_fetch_into_a_folder_chosen_is_not_called_the_cache(published: str, tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    with pytest.raises(DestinationError) as refused:
        registry.fetch("t/data", tmp_path / "file" / "dest", registry=published)
    assert "cache" not in str(refused.value)
