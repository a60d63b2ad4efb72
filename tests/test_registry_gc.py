"""``fashion packages gc``: objects that no manifest names go, and nothing else, ever.

The garbage is what a push killed before it wrote its manifest leaves: real objects stored
by a real push whose manifest and pointers are then removed. Local registries on disk; one
test against a real S3 server (SeaweedFS on loopback).
"""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

import pytest
from cli_support import cli, one_line

from fashion_lib import hashing, registry
from fashion_lib.errors import IntegrityError
from fashion_lib.registry import gc, manifest
from fashion_lib.registry.base import PACKAGES, POINTERS

NAME = "fashion-mnist/data"
KILLED = "fashion-mnist/killed"
DAY = 86400


@pytest.fixture
def reg(tmp_path: Path) -> Path:
    return tmp_path / "registry"


@pytest.fixture
def sources(tmp_path: Path) -> dict[str, Path]:
    """Three small CSVs; a package of the first two, a killed push of the last two."""
    contents = {
        "train.csv": b"label,pixel1\n1,0\n2,255\n",
        "test.csv": b"label,pixel1\n3,7\n",
        "new.csv": b"label,pixel1\n4,4\n5,5\n",
    }
    folder = tmp_path / "src"
    folder.mkdir()
    for name, data in contents.items():
        (folder / name).write_bytes(data)
    return {name: folder / name for name in contents}


def object_of(path: Path) -> str:
    """The name of a file's object: its quilt3 hash, in hex."""
    return manifest.object_name(hashing.SHA256_CHUNKED, hashing.sha256_chunked(path))


def killed_push(reg: Path, sources: dict[str, Path], *, age: float) -> tuple[str, bytes]:
    """A real push of test.csv (shared with NAME) and new.csv, then its manifest and pointers
    removed: what a push killed before writing them leaves. Its objects are ``age`` seconds old.
    Returns the top hash and the manifest's bytes."""
    top_hash = registry.push(KILLED, {k: sources[k] for k in ("test.csv", "new.csv")}, registry=str(reg))
    written = reg / PACKAGES / top_hash
    saved = written.read_bytes()
    written.unlink()
    for pointer in (reg / POINTERS / KILLED).iterdir():
        pointer.unlink()
    (reg / POINTERS / KILLED).rmdir()
    then = time.time() - age
    for obj in (reg / registry.OBJECTS).iterdir():
        os.utime(obj, (then, then))
    return top_hash, saved


def tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_gc_lists_then_removes_only_what_no_manifest_names(reg, sources, tmp_path):
    kept = registry.push(NAME, {k: sources[k] for k in ("train.csv", "test.csv")}, registry=str(reg))
    killed_push(reg, sources, age=2 * DAY)
    orphan = reg / registry.OBJECTS / object_of(sources["new.csv"])
    before = tree(reg)

    hinted = cli("packages", "verify", "--registry", str(reg))
    assert hinted.returncode == 0 and "no problems; 1 object(s), 21 bytes, named by no manifest" in hinted.stdout

    listed = cli("packages", "gc", "--registry", str(reg))
    assert listed.returncode == 0, listed.stderr
    assert f"would remove {orphan.name[:12]}" in listed.stdout and "2.0 days old" in listed.stdout
    assert "2 object(s) named by a manifest, 1 named by none" in listed.stdout
    assert "nothing removed: run again with --delete" in listed.stdout
    assert tree(reg) == before  # a dry run writes nothing, not even the lock

    removed = cli("packages", "gc", "--registry", str(reg), "--delete")
    assert removed.returncode == 0, removed.stderr
    assert f"removed {orphan.name[:12]}" in removed.stdout and "removed 1 object(s), 21 bytes" in removed.stdout
    assert not orphan.exists()
    assert (reg / registry.OBJECTS / object_of(sources["test.csv"])).is_file()  # the killed push shared it
    got = registry.fetch(NAME, tmp_path / "out", registry=str(reg))
    assert got.top_hash == kept and got.files["test.csv"].read_bytes() == sources["test.csv"].read_bytes()
    verified = cli("packages", "verify", "--registry", str(reg))
    assert verified.returncode == 0 and verified.stdout.rstrip().endswith("no problems"), verified.stdout
    again = cli("packages", "gc", "--registry", str(reg), "--delete")
    assert "1 named by none" not in again.stdout and "removed 0 object(s)" in again.stdout


def test_young_objects_stay_until_the_grace_period_is_over(reg, sources):
    registry.push(NAME, {"train.csv": sources["train.csv"]}, registry=str(reg))
    killed_push(reg, sources, age=3600)  # an hour old: a push could still be storing files
    orphans = {object_of(sources[k]) for k in ("test.csv", "new.csv")}

    default = cli("packages", "gc", "--registry", str(reg), "--delete")
    assert default.returncode == 0 and "2 named by none but younger than 24 h kept" in default.stdout
    assert orphans <= {p.name for p in (reg / registry.OBJECTS).iterdir()}

    done = cli("packages", "gc", "--registry", str(reg), "--delete", "--grace", "0.5", "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert {o["object"] for o in report["removed"]} == orphans and report["young"] == [] and report["named"] == 1
    assert {p.name for p in (reg / registry.OBJECTS).iterdir()} == {object_of(sources["train.csv"])}


def test_a_damaged_manifest_stops_gc_and_nothing_is_removed(reg, sources):
    kept = registry.push(NAME, {"train.csv": sources["train.csv"]}, registry=str(reg))
    killed_push(reg, sources, age=2 * DAY)
    damaged = reg / PACKAGES / kept
    damaged.write_bytes(damaged.read_bytes()[:-20])  # truncated behind our back
    before = tree(reg)

    done = cli("packages", "gc", "--registry", str(reg), "--delete")
    assert done.returncode == IntegrityError.exit_code
    line = one_line(done)
    assert line.startswith(f"fashion: error: version {kept[:12]} in local registry") and "nothing was removed" in line
    assert "is damaged: its manifest line " in line and "is not JSON" in line  # the reason, and only once
    assert "fetch another version" not in line and line.count("is damaged") == 1
    assert tree(reg) == before


def test_an_object_a_manifest_written_meanwhile_names_is_kept(reg, sources, monkeypatch):
    registry.push(NAME, {"train.csv": sources["train.csv"]}, registry=str(reg))
    top_hash, saved = killed_push(reg, sources, age=2 * DAY)
    real = gc._survey
    surveys = []

    def survey_then_a_manifest_lands(*args, **kwargs):
        found = real(*args, **kwargs)
        surveys.append(found)
        if len(surveys) == 2:  # the survey under the lock is done, nothing removed yet
            (reg / PACKAGES / top_hash).write_bytes(saved)
        return found

    monkeypatch.setattr(gc, "_survey", survey_then_a_manifest_lands)
    found = registry.collect_garbage(registry=str(reg), delete=True)
    assert len(found.unnamed) == 2 and found.removed == []
    assert {object_of(sources[k]) for k in ("test.csv", "new.csv")} <= {
        p.name for p in (reg / registry.OBJECTS).iterdir()
    }


def test_a_missing_registry_is_not_created(tmp_path):
    done = cli("packages", "gc", "--registry", str(tmp_path / "nowhere"), "--delete")
    assert done.returncode == 4 and "nowhere: no such folder" in one_line(done)  # a typo, not an empty registry
    assert not (tmp_path / "nowhere").exists()


def test_a_negative_grace_is_a_usage_error(reg):
    done = cli("packages", "gc", "--registry", str(reg), "--grace", "-1")
    assert done.returncode == 2 and "'-1' is not a number of hours >= 0" in one_line(done)


@pytest.mark.slow
def test_gc_on_a_real_s3_bucket(seaweed, sources, tmp_path):
    import seaweedfs  # tests/ is on sys.path

    with seaweedfs.use_identity(seaweed, "writer"):
        bucket = seaweedfs.new_bucket(seaweed, versioned=False)
        kept = registry.push(NAME, {"train.csv": sources["train.csv"]}, registry=bucket)
        s3 = registry.open(bucket)
        orphan = object_of(sources["new.csv"])
        s3.client.put_object(Bucket=s3.bucket, Key=f"objects/{orphan}", Body=sources["new.csv"].read_bytes())
        assert {o.name for o in s3.list_objects()} == {object_of(sources["train.csv"]), orphan}

        young = cli("packages", "gc", "--registry", bucket, "--delete")
        assert young.returncode == 0 and "1 named by none but younger than 24 h kept" in young.stdout
        done = cli("packages", "gc", "--registry", bucket, "--delete", "--grace", "0")
        assert done.returncode == 0, done.stderr
        assert "removed 1 object(s), 21 bytes" in done.stdout
        assert {o.name for o in s3.list_objects()} == {object_of(sources["train.csv"])}
        assert registry.fetch(NAME, tmp_path / "out", registry=bucket).top_hash == kept


@pytest.mark.slow
def test_an_s3_push_puts_back_an_object_gc_removed_under_it(seaweed, sources, tmp_path, monkeypatch):
    """A push reuses an old unnamed object; gc removes it just before the push's manifest lands."""
    import seaweedfs  # tests/ is on sys.path

    from fashion_lib.registry.s3 import S3Registry

    with seaweedfs.use_identity(seaweed, "writer"):
        bucket = seaweedfs.new_bucket(seaweed, versioned=False)
        registry.push(KILLED, {"train.csv": sources["train.csv"]}, registry=bucket)  # gc needs a manifest to trust
        s3 = registry.open(bucket)
        reused = object_of(sources["new.csv"])
        s3.client.put_object(Bucket=s3.bucket, Key=f"objects/{reused}", Body=sources["new.csv"].read_bytes())
        real_write = S3Registry.write
        removed = []

        def gc_lands_first(self, key, data):
            if key.startswith(PACKAGES) and not removed:
                registry.collect_garbage(registry=bucket, grace_hours=0, delete=True)  # no manifest yet
                removed.append(key)
            return real_write(self, key, data)

        monkeypatch.setattr(S3Registry, "write", gc_lands_first)
        top_hash = registry.push(NAME, {"new.csv": sources["new.csv"]}, registry=bucket)
        assert removed, "gc did not run inside the push"
        got = registry.fetch(NAME, tmp_path / "out", registry=bucket)
        assert got.top_hash == top_hash and got.files["new.csv"].read_bytes() == sources["new.csv"].read_bytes()


def orphans_in(s3, count: int) -> set[str]:
    """``count`` objects no manifest names, stored straight into the bucket's object store."""
    names = {os.urandom(32).hex() for _ in range(count)}
    for name in names:
        s3.client.put_object(Bucket=s3.bucket, Key=f"objects/{name}", Body=name.encode())
    return names


@pytest.mark.slow
def test_s3_gc_beside_a_first_push_keeps_its_young_objects_and_reports_old_ones(seaweed):
    """Before: objects in a bucket with no manifest yet were a lost .quilt folder (exit 3), even while a first
    push was storing them; on S3 no lock reaches, so only objects older than the grace tell."""
    import seaweedfs  # tests/ is on sys.path

    with seaweedfs.use_identity(seaweed, "writer"):
        bucket = seaweedfs.new_bucket(seaweed, versioned=False)
        orphans = orphans_in(registry.open(bucket), 1)
        found = registry.collect_garbage(registry=bucket, delete=True)  # the default grace, 24 h
        assert ({o.name for o in found.young}, found.unnamed, found.removed) == (orphans, [], [])
        with pytest.raises(IntegrityError, match=r"holds 1 object\(s\) but no manifest at all"):
            registry.collect_garbage(registry=bucket, grace_hours=0, delete=True)
        assert {o.name for o in registry.open(bucket).list_objects()} == orphans


@pytest.mark.slow
def test_s3_gc_removes_a_batch_per_request(seaweed, sources, monkeypatch):
    """DeleteObjects takes up to 1,000 keys: five orphans in batches of two are three requests."""
    import seaweedfs  # tests/ is on sys.path

    with seaweedfs.use_identity(seaweed, "writer"):
        bucket = seaweedfs.new_bucket(seaweed, versioned=False)
        registry.push(NAME, {"train.csv": sources["train.csv"]}, registry=bucket)
        s3 = registry.open(bucket)
        orphans = orphans_in(s3, 5)
        monkeypatch.setattr(gc, "REMOVE_BATCH", 2)
        with seaweedfs.count_requests() as requests:
            found = registry.collect_garbage(registry=bucket, grace_hours=0, delete=True)
        deletes = [r for r in requests.seen if r[0] == "POST"]
        assert {o.name for o in found.removed} == orphans and len(deletes) == 3
        assert not [r for r in requests.seen if r[0] == "DELETE"]  # no request per object
        assert {o.name for o in s3.list_objects()} == {object_of(sources["train.csv"])}


@pytest.mark.slow
def test_s3_gc_as_a_reader_is_refused_in_one_line_and_removes_nothing(seaweed, sources):
    import seaweedfs  # tests/ is on sys.path

    from fashion_lib.errors import RegistryAccessDenied

    with seaweedfs.use_identity(seaweed, "writer"):
        bucket = seaweedfs.new_bucket(seaweed, versioned=False)
        registry.push(NAME, {"train.csv": sources["train.csv"]}, registry=bucket)
        s3 = registry.open(bucket)
        before = {o.name for o in s3.list_objects()} | orphans_in(s3, 2)
        listed = cli("packages", "gc", "--registry", bucket, "--grace", "0", **seaweedfs.client_env(seaweed, "reader"))
        done = cli(
            "packages",
            "gc",
            "--registry",
            bucket,
            "--grace",
            "0",
            "--delete",
            **seaweedfs.client_env(seaweed, "reader"),
        )
        assert listed.returncode == 0 and "2 named by none" in listed.stdout  # reading is allowed
        assert done.returncode == RegistryAccessDenied.exit_code, done.stdout + done.stderr
        line = one_line(done)
        assert line.startswith("fashion: error: removing object ") and " and 1 more: " in line
        assert bucket in line and "access denied (AccessDenied)" in line
        assert {o.name for o in s3.list_objects()} == before


def gc_refuses(reg: Path, reason: str) -> str:
    """``gc --delete --grace 0`` on a damaged registry: exit 3, one line, the tree byte-identical."""
    before = tree(reg)
    done = cli("packages", "gc", "--registry", str(reg), "--delete", "--grace", "0")
    assert done.returncode == IntegrityError.exit_code, done.stdout + done.stderr
    line = one_line(done)
    assert reason in line and "nothing was removed" in line, line
    assert tree(reg) == before
    return line


@pytest.mark.parametrize("damage", ["missing", "a folder"])
def test_a_version_whose_manifest_is_gone_keeps_its_objects(reg, sources, damage):
    kept = registry.push(NAME, {"train.csv": sources["train.csv"]}, registry=str(reg))
    killed_push(reg, sources, age=2 * DAY)
    (reg / PACKAGES / kept).unlink()
    if damage == "a folder":
        (reg / PACKAGES / kept).mkdir()
    line = gc_refuses(reg, "its manifest is missing (or not a file)")
    assert f"version {kept[:12]} of {NAME}" in line


def test_a_quilt_folder_that_is_a_file_is_damage_not_an_empty_registry(reg, sources):
    """Read as "no manifests", it would make every object garbage: the whole registry."""
    registry.push(NAME, {"train.csv": sources["train.csv"]}, registry=str(reg))
    shutil.rmtree(reg / ".quilt")
    (reg / ".quilt").write_text("")
    before = tree(reg)
    for command in (["gc", "--delete", "--grace", "0"], ["list"], ["verify"]):
        done = cli("packages", *command, "--registry", str(reg))
        assert done.returncode == IntegrityError.exit_code, (command, done.stdout)
        assert ".quilt is a file, expected a folder" in one_line(done)
    assert tree(reg) == before


def test_objects_without_any_manifest_are_not_all_removed(reg, sources):
    registry.push(NAME, {"train.csv": sources["train.csv"]}, registry=str(reg))
    shutil.rmtree(reg / ".quilt")  # the manifests lost, e.g. a copy of objects/ alone
    gc_refuses(reg, "holds 1 object(s) but no manifest at all")


def test_damaged_version_pointers_stop_gc(reg, sources):
    registry.push(NAME, {"train.csv": sources["train.csv"]}, registry=str(reg))
    killed_push(reg, sources, age=2 * DAY)
    for pointer in (reg / POINTERS / NAME).iterdir():
        pointer.write_text("")  # emptied behind our back
    gc_refuses(reg, "do not hold a top hash")


def test_an_objects_folder_that_is_a_file_stops_gc(reg, sources):
    registry.push(NAME, {"train.csv": sources["train.csv"]}, registry=str(reg))
    shutil.rmtree(reg / registry.OBJECTS)
    (reg / registry.OBJECTS).write_text("x")
    before = tree(reg)
    done = cli("packages", "gc", "--registry", str(reg), "--json")
    assert done.returncode == IntegrityError.exit_code and "objects is a file, expected a folder" in one_line(done)
    assert tree(reg) == before
