"""``data.fetch_data`` takes ``overwrite`` as ``fashion data fetch --overwrite`` does (the command
calls it): a file in ``dest`` that differs is refused unless ``overwrite``; identical ones are left
as they are. A real local registry on disk."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from fashion_lib import registry
from fashion_lib.data import fetch_data
from fashion_lib.errors import DestinationError

NAME = "t/data"


@pytest.fixture
def reg(tmp_path: Path, sources: dict[str, Path]) -> str:
    folder = str(tmp_path / "registry")
    registry.push(NAME, sources, registry=folder, message="data")
    return folder


def test_a_differing_file_is_refused_without_overwrite_and_replaced_with_it(reg: str, tmp_path: Path) -> None:
    dest = tmp_path / "dest"
    dest.mkdir()
    (dest / "train.csv").write_text("mine")
    with pytest.raises(DestinationError, match="train.csv.*--overwrite"):
        fetch_data(registry=reg, name=NAME, dest=dest, overwrite=False)
    assert sorted(p.name for p in dest.iterdir()) == ["train.csv"] and (dest / "train.csv").read_text() == "mine"
    fetched = fetch_data(registry=reg, name=NAME, dest=dest, overwrite=True)
    assert (dest / "train.csv").read_bytes() == b"label,pixel1\n1,0\n2,255\n"
    assert fetched.files == {"train.csv": dest / "train.csv", "test.csv": dest / "test.csv"}


def test_identical_files_are_left_as_they_are(reg: str, tmp_path: Path) -> None:
    dest = tmp_path / "dest"
    dest.mkdir()
    (dest / "test.csv").write_bytes(b"label,pixel1\n3,7\n")
    os.utime(dest / "test.csv", (1_000_000_000, 1_000_000_000))
    inode = (dest / "test.csv").stat().st_ino
    fetch_data(registry=reg, name=NAME, dest=dest, overwrite=False)
    kept = (dest / "test.csv").stat()
    assert (kept.st_ino, kept.st_mtime) == (inode, 1_000_000_000)
    assert (dest / "train.csv").read_bytes() == b"label,pixel1\n1,0\n2,255\n"


def test_without_dest_the_cache_is_filled_and_its_damaged_copies_replaced(reg: str) -> None:
    fetched = fetch_data(registry=reg, name=NAME)
    fetched.files["train.csv"].write_text("damaged")
    again = fetch_data(registry=reg, name=NAME)
    assert again.dest == fetched.dest and again.files["train.csv"].read_bytes() == b"label,pixel1\n1,0\n2,255\n"
