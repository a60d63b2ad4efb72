"""``fashion model fetch`` and ``fashion data fetch`` never lose a file of the user's: a file in
--dest that differs from the version's is refused unless --overwrite is given, identical ones are
left alone, and a --dest inside the registry's own folder is refused. Real registries on disk."""

from __future__ import annotations

import contextlib
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_support import cli, one_line
from readonly_support import read_only

from fashion_lib import registry
from fashion_lib.errors import DestinationError, IntegrityError
from fashion_lib.settings import TEST_CSV, TRAIN_CSV

MODEL, DATA = "t/model", "t/data"
COMMANDS = {
    "model": ["model", "fetch", "--model-package", MODEL],
    "data": ["data", "fetch", "--name", DATA],
}


@pytest.fixture
def reg(tmp_path: Path) -> str:
    """A registry holding a (pretend) model package and a data package (CSVs by their usual names)."""
    src = tmp_path / "src"
    src.mkdir()
    (src / "clf.keras").write_bytes(b"published model bytes")
    (src / "metrics.json").write_text('{"test_accuracy": 0.9}')
    (src / "train.csv").write_text("label,pixel1\n1,0\n")
    folder = str(tmp_path / "registry")
    registry.push(MODEL, {"clf.keras": src / "clf.keras", "metrics.json": src / "metrics.json"}, registry=folder)
    data = {"clf.keras": src / "clf.keras", TRAIN_CSV: src / "train.csv", TEST_CSV: src / "train.csv"}
    registry.push(DATA, data, registry=folder)
    return folder


@pytest.mark.parametrize("kind", ["model", "data"])
def test_a_different_file_in_dest_is_refused_until_overwrite(reg: str, tmp_path: Path, kind: str) -> None:
    dest = tmp_path / "dest"
    dest.mkdir()
    (dest / "clf.keras").write_text("mine")
    done = cli(*COMMANDS[kind], "--dest", str(dest), "--registry", reg)
    line = one_line(done)
    assert done.returncode == 2 and done.stdout == ""
    assert str(dest) in line and "clf.keras" in line and "--overwrite" in line and "Traceback" not in line
    assert sorted(p.name for p in dest.iterdir()) == ["clf.keras"] and (dest / "clf.keras").read_text() == "mine"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".dest")] == []
    done = cli(*COMMANDS[kind], "--dest", str(dest), "--registry", reg, "--overwrite")
    assert done.returncode == 0, done.stderr
    assert (dest / "clf.keras").read_bytes() == b"published model bytes"


def test_identical_files_are_kept_as_they_are_and_the_rest_fetched(reg: str, tmp_path: Path) -> None:
    dest = tmp_path / "dest"
    dest.mkdir()
    (dest / "clf.keras").write_bytes(b"published model bytes")
    os.utime(dest / "clf.keras", (1_000_000_000, 1_000_000_000))
    inode = (dest / "clf.keras").stat().st_ino
    done = cli(*COMMANDS["model"], "--dest", str(dest), "--registry", reg)
    assert done.returncode == 0, done.stderr
    assert str(dest / "clf.keras") in done.stdout and str(dest / "metrics.json") in done.stdout
    kept = (dest / "clf.keras").stat()
    assert (kept.st_ino, kept.st_mtime) == (inode, 1_000_000_000)
    assert (dest / "metrics.json").read_text() == '{"test_accuracy": 0.9}'


@pytest.mark.parametrize("inside", [".quilt/packages", "", "objects", "sub/folder"])
def test_a_dest_inside_the_registry_folder_is_refused_before_anything_is_written(
    reg: str, tmp_path: Path, inside: str
) -> None:
    def snapshot() -> list[str]:
        return sorted(str(p.relative_to(reg)) for p in Path(reg).rglob("*"))

    before = snapshot()
    dest = Path(reg) / inside
    for kind in COMMANDS:
        done = cli(*COMMANDS[kind], "--dest", str(dest), "--registry", reg, "--overwrite")
        line = one_line(done)
        assert done.returncode == 2 and "inside the registry folder" in line and str(dest) in line
    assert snapshot() == before


def test_the_library_replaces_by_default_and_refuses_when_asked(reg: str, tmp_path: Path) -> None:
    """Library callers keep all-or-nothing replacement; the cache repairs its own damaged copy."""
    cached = registry.fetch_to_cache(MODEL, registry=reg)
    cached.files["clf.keras"].write_text("damaged")
    assert registry.fetch_to_cache(MODEL, registry=reg).files["clf.keras"].read_bytes() == b"published model bytes"
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "clf.keras").write_text("mine")
    with pytest.raises(DestinationError, match="already holds clf.keras with other content"):
        registry.fetch(MODEL, tmp_path / "out", registry=reg, overwrite=False)
    assert (tmp_path / "out" / "clf.keras").read_text() == "mine"
    registry.fetch(MODEL, tmp_path / "out", registry=reg)
    assert (tmp_path / "out" / "clf.keras").read_bytes() == b"published model bytes"


@contextlib.contextmanager
def _own_folder_in_a_read_only_one(parent: Path) -> Iterator[Path]:
    """``parent/mine``, writable, in a ``parent`` that is not: ``chmod``, or as root (whom ``chmod`` binds
    not) a read-only bind mount of ``parent`` with a small tmpfs mounted at ``mine``."""
    mine = parent / "mine"
    mine.mkdir(parents=True)
    if os.geteuid() != 0:
        parent.chmod(0o555)
        try:
            yield mine
        finally:
            parent.chmod(0o755)
        return
    with read_only(parent):
        made = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mine)], capture_output=True)
        if made.returncode:
            pytest.skip(f"cannot mount a tmpfs here ({made.stderr.decode().strip()})")
        try:
            yield mine
        finally:
            subprocess.run(["umount", str(mine)], check=False)


def test_a_writable_dest_in_a_read_only_folder_is_fetched_into(reg: str, tmp_path: Path) -> None:
    """Before: the files were staged in the folder above --dest: "cannot write into .../mine: Permission
    denied" (``--dest ~`` as a user, Docker's /data), and "Invalid cross-device link" where --dest is a mount
    point (/dev/shm). Now they are staged in a hidden folder inside --dest, removed afterwards."""
    with _own_folder_in_a_read_only_one(tmp_path / "parent") as mine:
        (mine / "clf.keras").write_text("mine")
        done = cli(*COMMANDS["model"], "--dest", str(mine), "--registry", reg, "--overwrite")
        assert done.returncode == 0, done.stderr
        assert (mine / "clf.keras").read_bytes() == b"published model bytes"
        assert sorted(p.name for p in mine.iterdir()) == ["clf.keras", "metrics.json"]  # no staging folder left


def test_a_dest_that_is_a_mount_point_is_fetched_into(reg: str, small_disk) -> None:
    dest = small_disk("mounted", 1 << 20)
    fetched = registry.fetch(MODEL, dest, registry=reg)
    assert fetched.files["clf.keras"].read_bytes() == b"published model bytes"
    assert sorted(p.name for p in dest.iterdir()) == ["clf.keras", "metrics.json"]


def test_a_new_dest_in_a_read_only_folder_names_that_folder(reg: str, tmp_path: Path) -> None:
    parent = tmp_path / "parent"
    parent.mkdir()
    with read_only(parent), pytest.raises(DestinationError) as caught:
        registry.fetch(MODEL, parent / "new" / "deeper", registry=reg)
    line = str(caught.value)
    assert line.startswith(f"cannot write into {parent / 'new' / 'deeper'}: ") and "\n" not in line
    assert f" in {parent}, where it would be made; nothing was changed there" in line
    assert list(parent.iterdir()) == []


def test_a_failed_fetch_into_an_existing_dest_leaves_no_staging_folder(reg: str, tmp_path: Path) -> None:
    dest = tmp_path / "dest"
    dest.mkdir()
    (dest / "clf.keras").write_text("mine")
    objects = Path(reg) / "objects"
    for stored in objects.iterdir():  # every object damaged, sizes kept: the fetch fails once it has read one
        stored.write_bytes(b"x" * stored.stat().st_size)
    with pytest.raises(IntegrityError):
        registry.fetch(MODEL, dest, registry=reg)
    assert [p.name for p in dest.iterdir()] == ["clf.keras"] and (dest / "clf.keras").read_text() == "mine"


@pytest.mark.parametrize("dest_exists", [True, False], ids=["inside --dest", "beside --dest"])
def test_a_killed_fetchs_staging_folder_is_swept_by_the_next_fetch(reg: str, tmp_path: Path, dest_exists: bool) -> None:
    """A fetch killed outright (SIGKILL) leaves its staging folder with the files it had; before, every
    later fetch left it there (31 MB in the hunt). The next fetch removes one nothing was written in for
    an hour, and leaves a live one (written in just now) alone."""
    from fashion_lib.registry import download

    dest = tmp_path / "dest"
    parent = dest if dest_exists else tmp_path
    if dest_exists:
        dest.mkdir()
    name = ".fashion-abcdefg{}" if dest_exists else ".dest.abcdefg{}"  # as mkdtemp names them
    stale, live = (parent / name.format(f"{which}{download.STAGED}") for which in ("1", "2"))
    for folder in (stale, live):
        (folder / "new").mkdir(parents=True)
        (folder / "new" / "clf.keras").write_bytes(b"half")
    old = download.STALE_S + 60
    for path in (stale / "new" / "clf.keras", stale / "new", stale):
        os.utime(path, (os.path.getatime(path) - old, os.path.getmtime(path) - old))
    registry.fetch(MODEL, dest, registry=reg)
    assert not stale.exists() and (live / "new" / "clf.keras").read_bytes() == b"half"
    assert (dest / "clf.keras").read_bytes() == b"published model bytes"
