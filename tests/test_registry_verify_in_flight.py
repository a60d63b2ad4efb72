"""``fashion packages verify`` beside a push in flight: a manifest whose pointers are being written is no orphan.

A push writes its objects, then its manifest, then its version pointers. A verify that lists the
manifests in between sees one that no pointer names: on a local registry it tells a live push (it holds
the writers' lock) from a killed one (nobody does); on S3, where no lock reaches, by age, as gc does.
The pushes here are real, stopped just before their pointers (``publish.point``) in a thread.
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_support import cli

from fashion_lib import registry
from fashion_lib.registry import lost, publish
from fashion_lib.registry.base import PACKAGES

NAME = "fashion-mnist/data"
IN_FLIGHT = "a push may be in flight"
KILLED = "a push killed before writing its pointer"


@contextlib.contextmanager
def push_before_its_pointers(monkeypatch, where: str, files: dict[str, Path]) -> Iterator[str]:
    """A real push of ``files`` to ``where``, held after writing its manifest and before its pointers; yields
    its top hash; the push finishes (and is checked) when the block ends."""
    reached, go = threading.Event(), threading.Event()
    real_point = publish.point

    def held_point(*args, **kwargs):
        reached.set()
        assert go.wait(120), "the test never let the push go on"
        return real_point(*args, **kwargs)

    monkeypatch.setattr(publish, "point", held_point)
    reg = registry.open(where)
    before = set(reg.list_keys(PACKAGES))
    done: dict[str, object] = {}

    def run() -> None:
        try:
            done["top_hash"] = registry.push(NAME, files, registry=where)
        except BaseException as exc:  # noqa: BLE001 - shown by the assert below
            done["error"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        assert reached.wait(120), done.get("error")
        (top_hash,) = set(reg.list_keys(PACKAGES)) - before
        yield top_hash
    finally:
        go.set()
        thread.join(120)
    assert done.get("top_hash") == top_hash, done.get("error")


def verify_json(where: str, *extra: str) -> tuple[int, dict]:
    done = cli("packages", "verify", "--registry", where, "--json", *extra)
    return done.returncode, json.loads(done.stdout)


def test_a_local_push_writing_its_pointers_is_in_flight_not_a_killed_one(tmp_path, sources, monkeypatch):
    where = str(tmp_path / "registry")
    registry.push(NAME, {"train.csv": sources["train.csv"]}, registry=where)
    with push_before_its_pointers(monkeypatch, where, sources) as top_hash:
        done = cli("packages", "verify", "--registry", where)  # another process: it sees the writer's lock
        assert done.returncode == 0, done.stderr
        assert f"note: manifest {top_hash} is named by no version pointer yet: {IN_FLIGHT}" in done.stdout
        assert KILLED not in done.stdout and "no problems" in done.stdout
        code, report = verify_json(where)
        assert (code, report["in_flight"], report["unnamed_manifests"]) == (0, [top_hash], [])
    done = cli("packages", "verify", "--registry", where)
    assert done.returncode == 0 and "note:" not in done.stdout, done.stdout
    assert "2 version(s)" in done.stdout


def test_a_first_local_push_in_flight_is_not_a_registry_that_lost_its_pointers(tmp_path, sources, monkeypatch):
    """Before: no pointer at all yet read as 'the registry lost its version pointers', exit 3."""
    where = str(tmp_path / "registry")
    with push_before_its_pointers(monkeypatch, where, sources) as top_hash:
        code, report = verify_json(where)
        assert code == 0 and report["problems"] == [], report
        assert report["in_flight"] == [top_hash]


def test_a_manifest_left_without_pointers_while_nobody_writes_is_noted_as_killed(tmp_path, sources):
    """Written a moment ago, but no writer holds the lock: a push killed, whatever its age."""
    where = tmp_path / "registry"
    registry.push(NAME, {"train.csv": sources["train.csv"]}, registry=str(where))
    pointers = where / ".quilt" / "named_packages" / NAME
    kept = {p.name: p.read_bytes() for p in pointers.iterdir()}
    unnamed = registry.push(NAME, sources, registry=str(where))
    for path in pointers.iterdir():
        path.unlink()
    for stamp, value in kept.items():
        (pointers / stamp).write_bytes(value)
    report = registry.verify(registry=str(where))
    assert (report.unnamed_manifests, report.in_flight, report.problems) == ([unnamed], [], [])
    assert f"note: manifest {unnamed} is named by no version pointer ({KILLED}" in report.summary()


@pytest.mark.slow
def test_an_s3_push_writing_its_pointers_is_in_flight_until_it_is_older_than_the_grace(seaweed, sources, monkeypatch):
    import seaweedfs  # tests/ is on sys.path

    with seaweedfs.use_identity(seaweed, "writer"):
        bucket = seaweedfs.new_bucket(seaweed, versioned=False)
        registry.push(NAME, {"train.csv": sources["train.csv"]}, registry=bucket)
        with push_before_its_pointers(monkeypatch, bucket, sources) as top_hash:
            report = registry.verify(registry=bucket, repair=True)
            assert (report.in_flight, report.unnamed_manifests, report.problems) == ([top_hash], [], [])
            assert IN_FLIGHT in report.summary() and KILLED not in report.summary()
            assert registry.open(bucket).has_manifest(top_hash)  # --repair left it alone

            with monkeypatch.context() as aged:
                aged.setattr(lost, "DEFAULT_GRACE_HOURS", 0.0)  # as if written more than a grace ago
                report = registry.verify(registry=bucket)
            assert (report.in_flight, report.unnamed_manifests, report.problems) == ([], [top_hash], [])
            assert f"note: manifest {top_hash} is named by no version pointer ({KILLED}" in report.summary()
        assert registry.verify(registry=bucket).unnamed_manifests == []
