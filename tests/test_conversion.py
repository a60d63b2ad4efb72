"""The IDX -> CSV conversion and its stamp: reused only while the CSVs are what it wrote, on small IDX files."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from fashion_lib import conversion, idx, settings

STAMP = conversion._STAMP


def _write_raw(folder: Path, n: int = 30) -> dict[str, Path]:
    """Four small IDX files (``n`` images a split) with the upstream names."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(3)
    raw = {}
    for prefix in ("train", "t10k"):
        images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
        labels = (np.arange(n) % 10).astype(np.uint8)
        header = b"".join(x.to_bytes(4, "big") for x in (idx.IMAGES_MAGIC, n, 28, 28))
        raw[f"{prefix}-images-idx3-ubyte"] = folder / f"{prefix}-images-idx3-ubyte"
        raw[f"{prefix}-images-idx3-ubyte"].write_bytes(header + images.tobytes())
        header = idx.LABELS_MAGIC.to_bytes(4, "big") + n.to_bytes(4, "big")
        raw[f"{prefix}-labels-idx1-ubyte"] = folder / f"{prefix}-labels-idx1-ubyte"
        raw[f"{prefix}-labels-idx1-ubyte"].write_bytes(header + labels.tobytes())
    return raw


@pytest.fixture
def raw(tmp_path: Path) -> dict[str, Path]:
    return _write_raw(tmp_path / "raw")


def _convert(raw: dict[str, Path], folder: Path) -> tuple[dict[str, Path], list[str]]:
    said: list[str] = []
    return conversion.convert(raw, folder, log=said.append), said


def test_unchanged_csvs_are_reused(raw: dict[str, Path], tmp_path: Path) -> None:
    csvs, said = _convert(raw, tmp_path / "data")
    assert len(said) == 2
    _, said = _convert(raw, tmp_path / "data")
    assert said == []


@pytest.mark.parametrize("split", ["train", "test"])
def test_a_hand_edited_csv_of_the_same_size_is_written_again(raw: dict[str, Path], tmp_path: Path, split: str) -> None:
    """Before, a CSV whose size still matched the stamp was reused: an edited label (9 -> 3) or pixel
    was published as the official data."""
    csvs, _ = _convert(raw, tmp_path / "data")
    official = {s: p.read_bytes() for s, p in csvs.items()}
    lines = official[split].decode().splitlines(keepends=True)
    lines[10] = "3" + lines[10][1:] if lines[10][0] == "9" else "9" + lines[10][1:]  # one label, same size
    csvs[split].write_text("".join(lines))
    assert csvs[split].stat().st_size == len(official[split])
    _, said = _convert(raw, tmp_path / "data")
    assert said == [f"Writing {settings.display_path(csvs[split])} ..."]  # only the edited one
    assert {s: p.read_bytes() for s, p in csvs.items()} == official
    _, said = _convert(raw, tmp_path / "data")
    assert said == []


def test_a_csv_that_cannot_be_read_is_written_again(
    raw: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A CSV of the stamped size whose bytes cannot be read to hash them (another user's file) is not
    known to be unchanged: it is written again, not a PermissionError out of the check (exit 70)."""
    csvs, _ = _convert(raw, tmp_path / "data")
    real, refusals = conversion.sha256_hex, [csvs["test"].name]  # the old file's read is refused, once

    def refused(path: Path) -> str:
        if refusals and Path(path).name == refusals[0]:
            refusals.pop()
            raise PermissionError(13, "Permission denied", str(path))
        return real(path)

    monkeypatch.setattr(conversion, "sha256_hex", refused)
    _, said = _convert(raw, tmp_path / "data")
    assert said == [f"Writing {settings.display_path(csvs['test'])} ..."]


@pytest.mark.parametrize("stamp", ['{"source_sha256": {"tr', "[1, 2]", '"text"', '{"sizes": [], "sha256": 5}', "dir"])
def test_a_damaged_stamp_is_ignored_and_written_again(raw: dict[str, Path], tmp_path: Path, stamp: str) -> None:
    """Before, a truncated stamp stopped every prepare with a JSONDecodeError (exit 70), a list with
    "'list' object has no attribute 'get'"."""
    folder = tmp_path / "data"
    csvs, _ = _convert(raw, folder)
    official = {s: p.read_bytes() for s, p in csvs.items()}
    if stamp == "dir":
        (folder / STAMP).unlink()
        (folder / STAMP).mkdir()
        with pytest.raises(IsADirectoryError) as caught:  # said as 'cannot use PATH: it is a folder'
            _convert(raw, folder)
        assert caught.value.filename == str(folder / STAMP)
        return
    (folder / STAMP).write_text(stamp)
    _, said = _convert(raw, folder)
    assert len(said) == 2  # rebuilt
    assert {s: p.read_bytes() for s, p in csvs.items()} == official
    assert sorted(json.loads((folder / STAMP).read_text())) == ["sha256", "sizes", "source_sha256"]
    assert sorted(p.name for p in folder.iterdir()) == sorted([STAMP, *(p.name for p in csvs.values())])


def test_the_stamp_is_replaced_by_rename_not_rewritten_in_place(raw: dict[str, Path], tmp_path: Path) -> None:
    """Before, a plain write_text: a crash mid-write left half a stamp."""
    folder = tmp_path / "data"
    csvs, _ = _convert(raw, folder)
    before = (folder / STAMP).stat().st_ino
    os.link(folder / STAMP, tmp_path / "old-stamp")  # the old inode's content must stay whole
    old = (tmp_path / "old-stamp").read_bytes()
    csvs["test"].write_text("edited\n")
    _convert(raw, folder)
    assert (folder / STAMP).stat().st_ino != before
    assert (tmp_path / "old-stamp").read_bytes() == old


@pytest.mark.parametrize("exc", [KeyboardInterrupt, OSError(28, "No space left on device")])
def test_an_interrupted_first_conversion_leaves_no_folder(
    raw: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, exc: BaseException
) -> None:
    """Before, Ctrl-C during a first prepare's conversion left an empty (or half-filled) data folder."""
    real, calls = conversion.write_csv, []

    def write_then_stop(images: np.ndarray, labels: np.ndarray, path: Path) -> Path:
        calls.append(path)
        if len(calls) == 2:
            raise exc
        return real(images, labels, path)

    monkeypatch.setattr(conversion, "write_csv", write_then_stop)
    folder = tmp_path / "home" / "data"
    with pytest.raises(type(exc) if isinstance(exc, BaseException) else exc):
        _convert(raw, folder)
    assert not (tmp_path / "home").exists()


def test_an_interrupted_conversion_in_an_existing_folder_removes_nothing_of_it(
    raw: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "data"
    (folder / "raw").mkdir(parents=True)
    (folder / "raw" / "kept.gz").write_bytes(b"x")

    def stop(*args: object) -> Path:
        raise KeyboardInterrupt

    monkeypatch.setattr(conversion, "write_csv", stop)
    with pytest.raises(KeyboardInterrupt):
        _convert(raw, folder)
    assert [p.name for p in folder.rglob("*")] == ["raw", "kept.gz"]


def test_an_interrupted_conversion_leaves_a_csv_another_prepare_put_there(
    raw: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two prepares in one fresh home: the first made the folder and wrote the train CSV; the second
    wrote its own train CSV over it (a rename) and relies on it. Ctrl-C on the first removed that file
    and the folder, so the second failed 'No such file' (hunt, 4 of 4). Now only a file that is still the
    one this process wrote is removed."""
    real, calls = conversion.write_csv, []
    folder = tmp_path / "home" / "data"

    def write_then_stop(images: np.ndarray, labels: np.ndarray, path: Path) -> Path:
        calls.append(path)
        if len(calls) == 2:  # meanwhile the other prepare replaced the train CSV by rename
            theirs = folder / ".theirs.csv"
            theirs.write_bytes(calls[0].read_bytes())
            os.replace(theirs, calls[0])
            raise KeyboardInterrupt
        return real(images, labels, path)

    monkeypatch.setattr(conversion, "write_csv", write_then_stop)
    with pytest.raises(KeyboardInterrupt):
        _convert(raw, folder)
    assert [p.name for p in folder.iterdir()] == [settings.TRAIN_CSV]
