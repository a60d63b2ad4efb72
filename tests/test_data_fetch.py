"""``data.fetch_data`` takes ``overwrite`` as ``fashion data fetch --overwrite`` does (the command
calls it): a file in ``dest`` that differs is refused unless ``overwrite``; identical ones are left
as they are. A version without both CSVs (a model version's full hash given as the data's) is refused
before anything is fetched, from the registry and from the cached copy standing in for it. A real
local registry on disk."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from cli_support import cli, one_line

from fashion_lib import registry
from fashion_lib.data import fetch_data
from fashion_lib.errors import ConfigError, DestinationError
from fashion_lib.settings import TEST_CSV, TRAIN_CSV

NAME = "t/data"


@pytest.fixture
def reg(tmp_path: Path, sources: dict[str, Path]) -> str:
    folder = str(tmp_path / "registry")
    csvs = {TRAIN_CSV: sources["train.csv"], TEST_CSV: sources["test.csv"]}
    registry.push(NAME, csvs, registry=folder, message="data")
    return folder


def _model(reg: str, tmp_path: Path) -> str:
    """A model version (``clf.keras``, ``metrics.json``) in ``reg``; its top hash."""
    for name, text in (("clf.keras", "weights"), ("metrics.json", "{}")):
        (tmp_path / name).write_text(text)
    files = {name: tmp_path / name for name in ("clf.keras", "metrics.json")}
    return registry.push("fashion-mnist/model", files, registry=reg)


def test_a_differing_file_is_refused_without_overwrite_and_replaced_with_it(reg: str, tmp_path: Path) -> None:
    dest = tmp_path / "dest"
    dest.mkdir()
    (dest / TRAIN_CSV).write_text("mine")
    with pytest.raises(DestinationError, match=f"{TRAIN_CSV}.*--overwrite"):
        fetch_data(registry=reg, name=NAME, dest=dest, overwrite=False)
    assert sorted(p.name for p in dest.iterdir()) == [TRAIN_CSV] and (dest / TRAIN_CSV).read_text() == "mine"
    fetched = fetch_data(registry=reg, name=NAME, dest=dest, overwrite=True)
    assert (dest / TRAIN_CSV).read_bytes() == b"label,pixel1\n1,0\n2,255\n"
    assert fetched.files == {TRAIN_CSV: dest / TRAIN_CSV, TEST_CSV: dest / TEST_CSV}


def test_identical_files_are_left_as_they_are(reg: str, tmp_path: Path) -> None:
    dest = tmp_path / "dest"
    dest.mkdir()
    (dest / TEST_CSV).write_bytes(b"label,pixel1\n3,7\n")
    os.utime(dest / TEST_CSV, (1_000_000_000, 1_000_000_000))
    inode = (dest / TEST_CSV).stat().st_ino
    fetch_data(registry=reg, name=NAME, dest=dest, overwrite=False)
    kept = (dest / TEST_CSV).stat()
    assert (kept.st_ino, kept.st_mtime) == (inode, 1_000_000_000)
    assert (dest / TRAIN_CSV).read_bytes() == b"label,pixel1\n1,0\n2,255\n"


def test_without_dest_the_cache_is_filled_and_its_damaged_copies_replaced(reg: str) -> None:
    fetched = fetch_data(registry=reg, name=NAME)
    fetched.files[TRAIN_CSV].write_text("damaged")
    again = fetch_data(registry=reg, name=NAME)
    assert again.dest == fetched.dest and again.files[TRAIN_CSV].read_bytes() == b"label,pixel1\n1,0\n2,255\n"


def test_a_model_versions_full_hash_is_refused_before_anything_is_fetched(reg: str, tmp_path: Path) -> None:
    """Before: clf.keras and metrics.json landed in --dest, "(all files verified)", exit 0."""
    model = _model(reg, tmp_path)
    dest = tmp_path / "dest"
    done = cli("data", "fetch", "--top-hash", model, "--dest", str(dest), "--registry", reg, "--name", NAME)
    assert done.returncode == 2 and done.stdout == "" and not dest.exists()
    assert one_line(done) == (
        f"fashion: error: {NAME}@{model[:12]} has no {TRAIN_CSV} or {TEST_CSV}; is it a data package? "
        "(name a data package instead, or publish one with 'fashion data push')"
    )


def test_the_cached_copy_stands_in_for_a_registry_that_is_gone_and_is_checked_as_well(
    reg: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "notes.txt").write_text("no CSVs")
    other = registry.push(NAME, {"notes.txt": tmp_path / "notes.txt"}, registry=reg)  # a version without them
    data = registry.list_versions(registry=reg, name=NAME)[1].top_hash
    fetch_data(registry=reg, name=NAME, top_hash=data)  # into the cache
    registry.fetch_to_cache(NAME, registry=reg, top_hash=other)
    Path(reg).rename(tmp_path / "registry-elsewhere")
    capsys.readouterr()
    fetched = fetch_data(registry=reg, name=NAME, top_hash=data[:10], dest=tmp_path / "dest")
    assert fetched.top_hash == data and (tmp_path / "dest" / TRAIN_CSV).read_bytes().startswith(b"label,pixel1")
    assert "from the cache" in capsys.readouterr().err
    with pytest.raises(ConfigError, match=f"^{NAME}@{other[:12]} has no {TRAIN_CSV} or {TEST_CSV}; is it a data"):
        fetch_data(registry=reg, name=NAME, top_hash=other, dest=tmp_path / "other")
    assert not (tmp_path / "other").exists()
