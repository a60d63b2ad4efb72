"""Readers of a local registry never take its lock: each test here does a live writer's step (a gc --delete, a
push, a second fetch) between a reader's two steps, on a real registry on disk, and the reader must neither fail
nor call a published version damaged or missing."""

from __future__ import annotations

import contextlib
import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from fashion_lib import registry
from fashion_lib.errors import IntegrityError
from fashion_lib.registry.local import LocalRegistry

NAME = "fashion-mnist/data"


def push(tmp_path: Path, reg: Path, row: str = "1,1") -> str:
    source = tmp_path / f"{row.replace(',', '-')}.csv"
    source.write_text(f"label,pixel1\n{row}\n")
    return registry.push(NAME, {"train.csv": source}, registry=str(reg))


def unnamed_object(reg: Path) -> Path:
    """An object no manifest names, older than gc's grace (left by a push killed long ago)."""
    obj = reg / "objects" / ("ab" * 32)
    obj.write_bytes(b"left by a push killed long ago")
    old = time.time() - 48 * 3600
    os.utime(obj, (old, old))
    return obj


def on_listing(monkeypatch, folder: Path, step: Callable[[], None], *, after: bool) -> list[bool]:
    """Do ``step`` once, a writer's, when ``folder`` is first listed (os.listdir or os.scandir): before the listing,
    or ``after`` it, before the reader looks at what it listed. Returns a list that holds True once done."""
    done: list[bool] = []
    real_listdir, real_scandir = os.listdir, os.scandir

    def listed(real, path):
        if done or path is None or Path(path) != folder:
            return real(path)
        done.append(True)
        if not after:
            step()
            return real(path)
        if real is real_listdir:
            names = real(path)
            step()
            return names
        with real(path) as found:
            entries = list(found)
        step()
        return contextlib.nullcontext(iter(entries))

    monkeypatch.setattr(os, "listdir", lambda path=None: listed(real_listdir, path))
    monkeypatch.setattr(os, "scandir", lambda path=None: listed(real_scandir, path))
    return done


@pytest.mark.parametrize("reader", ["verify", "gc"])
def test_an_object_gc_removes_while_a_reader_lists_the_objects_is_not_an_error(reader, tmp_path, monkeypatch):
    """Before: 'listing objects: ... No such file or directory', exit 2, from a verify or a gc dry run that listed
    the objects folder just before a gc --delete removed an unnamed object in it."""
    reg = tmp_path / "registry"
    push(tmp_path, reg)
    obj = unnamed_object(reg)
    done = on_listing(monkeypatch, reg / "objects", obj.unlink, after=True)  # gc --delete's removal
    if reader == "verify":
        report = registry.verify(registry=str(reg))
        assert report.problems == [] and report.unnamed_objects == 0, report.summary()
    else:
        found = registry.collect_garbage(registry=str(reg))
        assert found.unnamed == [] and found.named == 1
    assert done and not obj.exists()


@pytest.mark.parametrize(
    ("before", "listing"),
    [(1, ".quilt/named_packages"), (0, ".quilt/named_packages"), (1, "objects")],
    ids=["second-version-before-pointers", "first-push-before-pointers", "second-version-before-objects"],
)
def test_a_push_that_finishes_while_gc_surveys_is_no_damage(before, listing, tmp_path, monkeypatch):
    """A gc dry run takes no lock. Before: a push that wrote its manifest and pointers after the dry run listed the
    manifests made it call the new version damaged ('its manifest is missing', exit 3), and one that finished
    before it listed the objects had its objects listed as named by no manifest."""
    reg = tmp_path / "registry"
    for row in range(before):
        push(tmp_path, reg, f"{row},{row}")
    (reg / ".quilt" / "named_packages").mkdir(parents=True, exist_ok=True)
    pushed: list[str] = []
    step = lambda: pushed.append(push(tmp_path, reg, "9,9"))  # noqa: E731
    done = on_listing(monkeypatch, reg / listing, step, after=False)
    found = registry.collect_garbage(registry=str(reg), grace_hours=0)
    assert done and pushed and found.unnamed == [] and found.young == []
    assert registry.verify(registry=str(reg)).problems == []


def test_a_first_push_storing_its_objects_is_no_damage_to_a_gc_dry_run(tmp_path):
    """A first push stores its objects, then its manifest, holding the push lock. Before: a gc dry run in between
    said the registry had lost its manifests (exit 3); a verify said it was in flight."""
    reg = tmp_path / "registry"
    (reg / "objects").mkdir(parents=True)
    with LocalRegistry(reg).writing():  # as a push holds it, storing its first object
        (reg / "objects" / ("cd" * 32)).write_bytes(b"label,pixel1\n1,1\n")
        found = registry.collect_garbage(registry=str(reg))
        assert [o.name for o in found.young] == ["cd" * 32] and found.unnamed == []
        assert registry.verify(registry=str(reg)).in_flight_objects == 1
    with pytest.raises(IntegrityError, match="no manifest at all"):  # no push holds it: a registry that lost .quilt
        registry.collect_garbage(registry=str(reg))


def test_a_push_that_finishes_while_verify_counts_unnamed_objects_is_not_counted(tmp_path, monkeypatch):
    """Before: verify read the manifests, then listed the objects; a push in between had its objects counted as
    named by no manifest ('gc lists them')."""
    reg = tmp_path / "registry"
    push(tmp_path, reg)
    done = on_listing(monkeypatch, reg / "objects", lambda: push(tmp_path, reg, "9,9"), after=False)
    report = registry.verify(registry=str(reg))
    assert done and report.problems == [] and report.unnamed_objects == 0, report.summary()


@pytest.mark.parametrize("copy", ["none", "damaged"])
def test_two_fetches_into_one_cache_at_once_both_succeed(copy, tmp_path, monkeypatch):
    """The second fetch does its step while the first moves its files into place. Before: into no copy yet, the
    first's staged folder could not be renamed onto the copy the second had just placed ('Directory not empty');
    into a damaged copy, the file the second had just set aside was gone ('No such file or directory'): exit 2."""
    monkeypatch.setenv("FASHION_DATA_DIR", str(tmp_path / "data"))
    reg = tmp_path / "registry"
    top_hash = push(tmp_path, reg)
    dest = registry.fetch_to_cache(NAME, registry=str(reg)).dest
    if copy == "none":
        shutil.rmtree(dest)
    else:
        (dest / "train.csv").write_text("changed\n")
    real_replace, done = os.replace, []

    def second_fetch_first(src, dst):
        if not done and (Path(dst) == dest or Path(src) == dest / "train.csv"):
            done.append(True)
            if copy == "none":  # the second fetch places its whole copy
                registry.fetch_to_cache(NAME, registry=str(reg))
            else:  # the second sets the damaged file aside, about to put its own in
                real_replace(dest / "train.csv", tmp_path / "set-aside.csv")
        return real_replace(src, dst)

    monkeypatch.setattr(os, "replace", second_fetch_first)
    fetched = registry.fetch_to_cache(NAME, registry=str(reg))
    assert done and fetched.dest == dest and fetched.top_hash == top_hash
    assert (dest / "train.csv").read_text() == "label,pixel1\n1,1\n"
    assert not [p.name for p in dest.parent.iterdir() if p.name.endswith(".fetching")]


@pytest.mark.parametrize("overwrite", [False, True])
def test_two_fetches_of_two_versions_into_one_new_folder_never_leave_a_mix(overwrite, tmp_path, monkeypatch):
    """The other fetch places version 2 in the new --dest while this one is about to place version 1. Without
    --overwrite this one refuses (the folder holds other bytes now) and version 2 stays whole; with it, version 1
    replaces it whole. Before (review 95): both succeeded, whatever --overwrite said."""
    from fashion_lib.errors import DestinationError

    reg = tmp_path / "registry"
    first = push(tmp_path, reg, "1,1")
    second = push(tmp_path, reg, "2,2")
    dest = tmp_path / "dest"
    real_replace, done = os.replace, []

    def other_fetch_first(src, dst):
        if not done and Path(dst) == dest:
            done.append(True)
            registry.fetch(NAME, dest, registry=str(reg), top_hash=second)
        return real_replace(src, dst)

    monkeypatch.setattr(os, "replace", other_fetch_first)
    if overwrite:
        registry.fetch(NAME, dest, registry=str(reg), top_hash=first, overwrite=True)
    else:
        with pytest.raises(DestinationError, match="already holds train.csv with other content"):
            registry.fetch(NAME, dest, registry=str(reg), top_hash=first, overwrite=False)
    assert done
    assert (dest / "train.csv").read_text() == f"label,pixel1\n{'1,1' if overwrite else '2,2'}\n"
    assert [p.name for p in dest.iterdir()] == ["train.csv"]  # no staging folder left inside


def test_gc_delete_removes_nothing_from_a_registry_that_lost_its_manifests_beside_an_unreadable_push_lock(
    tmp_path, monkeypatch
):
    """A killed push left its push lock file, unreadable to this user (another user's, mode 0600): lock.held counts
    that as held. Without the writing lock that reads as "a push may be storing these" (no damage); under
    gc --delete's own lock no push can be in flight, so objects with no manifest at all stay damage and nothing is
    removed. Before (review 95): gc --delete removed every object. Tests run as root, who opens any file, so the
    unreadable file is stood in for by what lock.held says of it."""
    from fashion_lib.registry import lost

    reg = tmp_path / "registry"
    push(tmp_path, reg)
    objects = sorted(p.name for p in (reg / "objects").iterdir())
    shutil.rmtree(reg / ".quilt")  # the manifests and pointers are lost
    old = time.time() - 48 * 3600
    for name in objects:
        os.utime(reg / "objects" / name, (old, old))
    monkeypatch.setattr(lost, "held", lambda path: True)
    with pytest.raises(IntegrityError, match="no manifest at all"):
        registry.collect_garbage(registry=str(reg), delete=True)
    assert sorted(p.name for p in (reg / "objects").iterdir()) == objects
