"""Is a push in flight? What ``packages verify`` and ``gc`` ask before they call a manifest or object lost.

On a local registry: whether a push holds its push lock (``.fashion-push.lock``), not merely whether anyone
holds the writers' lock, which ``gc --delete`` and ``verify --repair`` hold too. The holders here are real
commands in another process, held with the lock taken. On S3 the answer is the object's age
(:meth:`S3Registry.written_at`); the S3 tests with a real server (test_registry_verify_in_flight,
test_registry_verify_first_push) cover it end to end.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import signal
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import botocore.exceptions as bx
import pytest
from cli_support import cli, one_line, wait_for_file

from fashion_lib import registry
from fashion_lib.errors import IntegrityError
from fashion_lib.registry import lock, lost
from fashion_lib.registry.base import OBJECTS, POINTERS
from fashion_lib.registry.local import LOCK, PUSH_LOCK, LocalRegistry
from fashion_lib.registry.s3 import S3Registry

NAME = "fashion-mnist/data"
IN_FLIGHT = "a push may be in flight"

# A real command that stops for good with the registry's writers' lock held, and says so in a file:
# verify --repair (in its clean-up), gc --delete (in its removal), or a push (after storing its first object).
HOLDER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from fashion_lib import registry
    from fashion_lib.registry import gc, publish
    from fashion_lib.registry.local import LocalRegistry

    where, said, holder, source = sys.argv[1:5]

    def hold(*args, **kwargs):
        Path(said).write_text(holder)
        time.sleep(300)

    if holder == "verify --repair":
        LocalRegistry.temporary_leftovers = lambda self: [Path(where) / ".fashion-tmp" / "x"]  # to repair: it locks
        LocalRegistry.clean_temporary = hold
        registry.verify(registry=where, repair=True)
    elif holder == "gc --delete":
        LocalRegistry.remove_objects = hold
        gc.collect(registry.open(where), grace_hours=0, delete=True)
    else:
        real_store = publish._store

        def store_then_hold(*args, **kwargs):
            stored = real_store(*args, **kwargs)
            hold()
            return stored

        publish._store = store_then_hold
        registry.push("fashion-mnist/other", {"new.csv": Path(source)}, registry=where)
    """
)

WRITTEN = dt.datetime(2024, 5, 1, 12, 0, tzinfo=dt.UTC)


class HeadOnly:
    """An S3 client that answers HeadObject only: ``WRITTEN`` for the keys it holds, else S3's 404."""

    def __init__(self, keys: set[str]) -> None:
        self.keys, self.asked = keys, []

    def head_object(self, *, Bucket: str, Key: str) -> dict:  # noqa: N803 - boto3's names
        self.asked.append((Bucket, Key))
        if Key not in self.keys:
            raise bx.ClientError({"Error": {"Code": "404", "Message": "Not Found"}}, "HeadObject")
        return {"LastModified": WRITTEN}


@pytest.fixture
def bucket(monkeypatch) -> tuple[S3Registry, HeadOnly]:
    client = HeadOnly({".quilt/packages/" + "a" * 64})
    monkeypatch.setattr(S3Registry, "client", property(lambda self: client))
    return S3Registry("s3://bucket"), client


def test_an_s3_registry_says_when_an_object_was_written_and_0_for_one_gone(bucket):
    """Before: gc read ``reg.client`` and ``reg.bucket`` itself; S3Registry had no ``written_at``."""
    reg, client = bucket
    assert reg.written_at(".quilt/packages/" + "a" * 64) == WRITTEN.timestamp()
    assert reg.written_at(".quilt/packages/" + "b" * 64) == 0.0
    assert client.asked == [("bucket", ".quilt/packages/" + "a" * 64), ("bucket", ".quilt/packages/" + "b" * 64)]


def test_in_flight_on_s3_asks_the_registry_for_each_manifests_date(bucket, monkeypatch):
    reg, _ = bucket
    monkeypatch.setattr(lost, "grace_cutoff", lambda: WRITTEN.timestamp() - 1)
    assert lost.in_flight(reg, ["a" * 64, "b" * 64]) == ["a" * 64]  # "b": gone since it was listed
    monkeypatch.setattr(lost, "grace_cutoff", lambda: WRITTEN.timestamp())
    assert lost.in_flight(reg, ["a" * 64]) == []  # older than the grace


def test_another_s3_error_is_raised_not_taken_for_gone(bucket, monkeypatch):
    reg, client = bucket

    def denied(**_: str) -> dict:
        raise bx.ClientError({"Error": {"Code": "AccessDenied", "Message": "no"}}, "HeadObject")

    monkeypatch.setattr(client, "head_object", denied)
    with pytest.raises(bx.ClientError):
        reg.written_at(".quilt/packages/" + "a" * 64)


@contextmanager
def held_by(holder: str, where: Path, tmp_path: Path) -> Iterator[None]:
    """``holder`` (see HOLDER) running on ``where`` in another process, stopped with the writers' lock held;
    killed (SIGKILL) when the block ends."""
    said, source = tmp_path / "said", tmp_path / "new.csv"
    source.write_bytes(b"label,pixel1\n4,4\n")
    child = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(where), str(said), holder, str(source)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=dict(os.environ),
    )
    try:
        wait_for_file(child, said, f"{holder} never took the lock")
        assert lock.held(where / LOCK)
        yield
    finally:
        child.send_signal(signal.SIGKILL)
        child.communicate(timeout=60)


def lost_manifests(where: Path, sources: dict[str, Path]) -> str:
    """A registry whose .quilt folder was lost: objects, no manifest. Returns verify's damage line's words."""
    registry.push(NAME, sources, registry=str(where))
    shutil.rmtree(where / ".quilt")
    return "holds 2 object(s) but no manifest at all"


def lost_pointers(where: Path, sources: dict[str, Path]) -> str:
    """A registry that lost every version pointer, plus an old object no manifest names (gc's to remove)."""
    registry.push(NAME, sources, registry=str(where))
    shutil.rmtree(where / POINTERS)
    (where / OBJECTS / ("0" * 64)).write_bytes(b"left by a push killed long ago")
    return "the registry lost its version pointers"


@pytest.mark.parametrize(
    ("damage", "holder"),
    [(lost_manifests, "verify --repair"), (lost_pointers, "gc --delete"), (lost_pointers, "verify --repair")],
)
def test_lost_manifests_are_damage_while_gc_or_a_repair_holds_the_writers_lock(damage, holder, tmp_path, sources):
    """Before: exit 0, 'a push may be in flight', while a gc --delete or a verify --repair held the lock."""
    where = tmp_path / "registry"
    lost = damage(where, sources)
    with held_by(holder, where, tmp_path):
        done = cli("packages", "verify", "--registry", str(where))
        assert done.returncode == IntegrityError.exit_code, (done.stdout, done.stderr)
        assert lost in done.stderr and IN_FLIGHT not in done.stdout, done.stderr


def test_lost_pointers_beside_a_push_in_flight_are_still_a_push_in_flight(tmp_path, sources):
    where = tmp_path / "registry"
    lost_pointers(where, sources)
    with held_by("push", where, tmp_path):
        assert (where / PUSH_LOCK).is_file()
        done = cli("packages", "verify", "--registry", str(where))
        assert done.returncode == 0, done.stderr
        assert IN_FLIGHT in done.stdout and "no problems" in done.stdout, done.stdout
    done = cli("packages", "verify", "--registry", str(where))  # killed: its lock went with it
    assert done.returncode == IntegrityError.exit_code and "lost its version pointers" in one_line(done)


def test_only_a_push_reads_as_one_and_its_lock_file_goes_with_it(tmp_path, sources):
    where = tmp_path / "registry"
    registry.push(NAME, sources, registry=str(where))
    assert not (where / PUSH_LOCK).exists()  # there only while a push holds it
    reg = LocalRegistry(where)
    with reg.writing(clean=False):  # gc --delete, verify --repair
        assert not lost.writer_active(reg)
    with reg.writing():  # a push
        assert lost.writer_active(reg)
    assert not lost.writer_active(reg) and not (where / PUSH_LOCK).exists()


def test_a_push_lock_this_user_cannot_open_may_be_a_push(tmp_path, sources, monkeypatch):
    """Another user's, left unreadable: a note that a push may be in flight, never damage."""
    where = tmp_path / "registry"
    registry.push(NAME, sources, registry=str(where))
    (where / PUSH_LOCK).touch()
    real_open = os.open

    def denied(path, *args, **kwargs):
        if Path(path) == where / PUSH_LOCK:
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(os, "open", denied)
    assert lost.writer_active(LocalRegistry(where))


def test_a_push_lock_made_anew_while_it_is_probed_reads_as_held(tmp_path, monkeypatch):
    """A reader opens the push lock; that push removes it and ends; the next push makes it anew and locks it.
    Before: the reader's free lock on the removed file read as 'no push', and verify called the new push's
    version damage (found by review helper 71). Now the probe is made again on the file the path names."""
    import fcntl
    import os

    from fashion_lib.registry import lock

    path = tmp_path / PUSH_LOCK
    path.write_text("")
    probes, holders, real = [], [], fcntl.flock

    def replaced_while_probed(fd, how):
        if how & fcntl.LOCK_NB and not probes:  # the first probe: the file it opened goes, a new holder comes
            path.unlink()
            holder = os.open(path, os.O_RDWR | os.O_CREAT)
            real(holder, fcntl.LOCK_EX)
            holders.append(holder)
        probes.append(fd)
        return real(fd, how)

    monkeypatch.setattr(lock.fcntl, "flock", replaced_while_probed)
    try:
        assert lock.held(path)
    finally:
        for fd in holders:
            os.close(fd)
    monkeypatch.undo()
    assert not lock.held(path)  # its holder gone: free
