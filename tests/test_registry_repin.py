"""S3 manifests that name their objects where stock quilt3 can't read them, on a real SeaweedFS server.

A manifest on a versioned bucket pins one version of each object (``objects/<hex>?versionId=V``). Once the
bucket is moved or restored (``aws s3 sync`` down and back), or its objects uploaded again in place, and the
old versions expire, those versions are gone though ``objects/<hex>`` holds the same bytes: fashion reads the
current object (hashed like any), a fetch says so in one note, ``verify`` names the problem and
``verify --repair`` pins the current version (same top hash). A bucket filled by syncing a local registry
into it has manifests naming ``file://`` paths: a note, and ``--repair`` rewrites them. A current object
with other bytes stays damage, never pinned.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import seaweedfs  # tests/ is on sys.path
from cli_support import cli

from fashion_lib import registry
from fashion_lib.registry.base import PACKAGES
from fashion_lib.registry.s3 import S3Registry

pytestmark = pytest.mark.slow  # a real SeaweedFS server, CLI processes

NAME = "t/data"
TRAIN, TEST = "fashion-mnist_train.csv", "fashion-mnist_test.csv"


@pytest.fixture(autouse=True)
def writer(seaweed):
    with seaweedfs.use_identity(seaweed, "writer"):
        yield


@pytest.fixture
def env(seaweed, tmp_path) -> dict[str, str]:
    return {**seaweedfs.client_env(seaweed, "writer"), "FASHION_HOME": str(tmp_path / "home")}


@pytest.fixture
def client(seaweed):
    return seaweed.client("writer")


def files_in(folder: Path, train: bytes = b"label,pixel1\n1,0\n2,255\n", test: bytes = b"label,pixel1\n3,7\n"):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / TRAIN).write_bytes(train)
    (folder / TEST).write_bytes(test)
    return {TRAIN: folder / TRAIN, TEST: folder / TEST}


def entry_of(bucket: str, top_hash: str, key: str):
    return next(e for e in registry.open(bucket).manifest(NAME, top_hash).entries if e.key == key)


def manifest_bytes(client, bucket: str, top_hash: str) -> bytes:
    return client.get_object(Bucket=bucket[5:], Key=f"{PACKAGES}/{top_hash}")["Body"].read()


def drop_pin(client, bucket: str, top_hash: str, key: str, current: bytes) -> str:
    """``current`` stored as the new version of ``key``'s object, and the version the manifest pins deleted (an
    upload in place whose old versions expired); the version id that is gone."""
    entry = entry_of(bucket, top_hash, key)
    pinned = entry.physical_key.split("?versionId=")[1]
    client.put_object(Bucket=bucket[5:], Key=f"objects/{entry.object_name}", Body=current)
    client.delete_object(Bucket=bucket[5:], Key=f"objects/{entry.object_name}", VersionId=pinned)
    return pinned


def stock_fetch(bucket: str, top_hash: str, dest: Path) -> dict[str, bytes]:
    """What stock quilt3 fetches of the version (it reads the physical keys), its cache off: it keeps a manifest
    it read by top hash, and would never read the repaired one (nor write into this user's cache)."""
    quilt3 = registry.quilt()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(quilt3.util, "IS_CACHE_ENABLED", False)
        quilt3.Package.browse(NAME, registry=bucket, top_hash=top_hash).fetch(str(dest) + "/")
    return {path.name: path.read_bytes() for path in dest.iterdir()}


def test_a_deleted_pin_is_read_noted_and_repaired(seaweed, env, client, tmp_path):
    bucket = seaweedfs.new_bucket(seaweed, versioned=True)
    files = files_in(tmp_path / "src")
    top_hash = registry.push(NAME, files, registry=bucket)
    gone = drop_pin(client, bucket, top_hash, TEST, files[TEST].read_bytes())
    with pytest.raises(Exception, match="."):  # noqa: B017 - stock quilt3 reads only the pinned version
        stock_fetch(bucket, top_hash, tmp_path / "stock-before")

    fetched = cli("data", "fetch", "--registry", bucket, "--name", NAME, "--dest", str(tmp_path / "d"), **env)
    assert fetched.returncode == 0, fetched.stderr  # before: exit 3, "... has no object ... version ..."
    assert (tmp_path / "d" / TEST).read_bytes() == files[TEST].read_bytes()
    (note,) = [line for line in fetched.stderr.splitlines() if line.startswith("note:")]
    assert note == (
        f"note: 1 file(s) of {NAME}@{top_hash[:12]} pin object versions {bucket} (endpoint {env['AWS_ENDPOINT_URL']}) "
        "no longer has; read from its current objects (same bytes, hash-checked); "
        "'fashion packages verify --repair' pins them again"
    )

    checked = cli("packages", "verify", "--registry", bucket, **env)
    assert checked.returncode == 3, checked.stderr
    (line,) = [line for line in checked.stderr.splitlines() if line.startswith("fashion: damaged:")]
    assert f"{TEST} in {NAME}@{top_hash[:12]} has no object " in line and f"version {gone}" in line
    assert "holds its bytes (hash-checked)" in line and "'fashion packages verify --repair'" in line

    repaired = cli("packages", "verify", "--registry", bucket, "--repair", **env)
    assert repaired.returncode == 0, repaired.stderr
    assert repaired.stdout.splitlines()[0] == (
        f"rewrote {NAME}@{top_hash[:12]}'s manifest: 1 file(s) now name the object versions {bucket} "
        f"(endpoint {env['AWS_ENDPOINT_URL']}) holds (same top hash)"
    )
    assert entry_of(bucket, top_hash, TEST).physical_key.split("?versionId=")[1] not in ("", gone)
    again = cli("packages", "verify", "--registry", bucket, **env)
    assert again.returncode == 0 and "no problems" in again.stdout and "note:" not in again.stdout, again.stdout
    assert stock_fetch(bucket, top_hash, tmp_path / "stock") == {k: p.read_bytes() for k, p in files.items()}
    quiet = cli("data", "fetch", "--registry", bucket, "--name", NAME, "--dest", str(tmp_path / "e"), **env)
    assert quiet.returncode == 0 and "note:" not in quiet.stderr, quiet.stderr


def synced_from_local(client, bucket: str, local: Path) -> None:
    """Every file of a local registry put into the bucket under its relative path, as ``aws s3 sync`` does."""
    for path in sorted(p for p in local.rglob("*") if p.is_file()):
        client.put_object(Bucket=bucket[5:], Key=path.relative_to(local).as_posix(), Body=path.read_bytes())


@pytest.mark.parametrize("versioned", [True, False], ids=["versioned", "unversioned"])
def test_file_keys_of_a_synced_local_registry_are_noted_and_rewritten(seaweed, env, client, tmp_path, versioned):
    bucket = seaweedfs.new_bucket(seaweed, versioned=versioned)
    files = files_in(tmp_path / "src")
    top_hash = registry.push(NAME, files, registry=tmp_path / "local")
    synced_from_local(client, bucket, tmp_path / "local")
    assert entry_of(bucket, top_hash, TEST).physical_key.startswith("file:///")
    shutil.rmtree(tmp_path / "local")
    with pytest.raises(FileNotFoundError):  # stock quilt3 goes to the local folder, gone
        stock_fetch(bucket, top_hash, tmp_path / "stock-before")

    fetched = cli("data", "fetch", "--registry", bucket, "--name", NAME, "--dest", str(tmp_path / "d"), **env)
    assert fetched.returncode == 0 and "note:" not in fetched.stderr, fetched.stderr
    checked = cli("packages", "verify", "--registry", bucket, **env)
    assert checked.returncode == 0, checked.stderr
    assert (
        f"note: 1 version(s) ({NAME}@{top_hash[:12]}) name files outside the bucket (file:// paths of a local "
        "registry synced into it, or another bucket): fashion reads them from the bucket's objects, stock quilt3 "
        "can't; 'fashion packages verify --repair' rewrites them"
    ) in checked.stdout.splitlines()  # before: no problems, nothing noted

    repaired = cli("packages", "verify", "--registry", bucket, "--repair", **env)
    assert repaired.returncode == 0, repaired.stderr
    assert repaired.stdout.startswith(f"rewrote {NAME}@{top_hash[:12]}'s manifest: 2 file(s) now name"), repaired.stdout
    keys = {e.key: e.physical_key for e in registry.open(bucket).manifest(NAME, top_hash).entries}
    for physical in keys.values():
        assert physical.startswith(f"{bucket}/objects/") and ("?versionId=" in physical) == versioned, physical
    again = cli("packages", "verify", "--registry", bucket, **env)
    assert again.returncode == 0 and "note:" not in again.stdout, again.stdout
    assert stock_fetch(bucket, top_hash, tmp_path / "stock") == {k: p.read_bytes() for k, p in files.items()}


def test_publishing_the_same_files_again_rewrites_file_keys(seaweed, client, tmp_path, capsys):
    bucket = seaweedfs.new_bucket(seaweed, versioned=True)
    files = files_in(tmp_path / "src")
    top_hash = registry.push(NAME, files, registry=tmp_path / "local")
    synced_from_local(client, bucket, tmp_path / "local")
    capsys.readouterr()
    assert registry.push(NAME, files, registry=bucket) == top_hash  # before: "Already published", keys kept
    assert capsys.readouterr().err.startswith(f"Repaired {NAME}@{top_hash[:12]}: 1 file written again")
    assert all(e.physical_key.startswith(bucket) for e in registry.open(bucket).manifest(NAME, top_hash).entries)
    assert registry.verify(registry=bucket).keys_elsewhere == []


def test_a_current_object_with_other_bytes_stays_damage_and_is_not_pinned(seaweed, env, client, tmp_path):
    bucket = seaweedfs.new_bucket(seaweed, versioned=True)
    files = files_in(tmp_path / "src")
    top_hash = registry.push(NAME, files, registry=bucket)
    drop_pin(client, bucket, top_hash, TEST, files[TEST].read_bytes())  # this one can be pinned again
    other = files[TRAIN].read_bytes().replace(b"255", b"254")  # same size, other bytes
    gone = drop_pin(client, bucket, top_hash, TRAIN, other)
    before = manifest_bytes(client, bucket, top_hash)

    fetched = cli("data", "fetch", "--registry", bucket, "--name", NAME, "--dest", str(tmp_path / "d"), **env)
    assert fetched.returncode == 3 and not (tmp_path / "d").exists(), fetched.stderr
    assert f"{TRAIN} in {NAME}@{top_hash[:12]} has no object " in fetched.stderr and f"version {gone}" in fetched.stderr

    repaired = cli("packages", "verify", "--registry", bucket, "--repair", **env)
    assert repaired.returncode == 3, repaired.stderr
    assert repaired.stdout.startswith(f"rewrote {NAME}@{top_hash[:12]}'s manifest: 1 file(s)"), repaired.stdout
    (line,) = [line for line in repaired.stderr.splitlines() if line.startswith("fashion: damaged:")]
    assert f"{TRAIN} in " in line and f"version {gone}" in line and "--repair" not in line, line
    after = manifest_bytes(client, bucket, top_hash)
    assert after != before and [b for b in before.splitlines() if TRAIN.encode() in b] == [
        a for a in after.splitlines() if TRAIN.encode() in a
    ]  # train's line as it was: still its gone version
    assert registry.resolve_top_hash(NAME, None, registry=bucket) == top_hash

    client.put_object(Bucket=bucket[5:], Key=f"objects/{entry_of(bucket, top_hash, TRAIN).object_name}", Body=b"x")
    (problem,) = registry.verify(registry=bucket).problems
    assert f"{TRAIN} in " in problem and f"version {gone}" in problem


def test_a_push_of_the_same_version_beside_the_repair_leaves_a_good_manifest(seaweed, tmp_path, monkeypatch):
    """verify --repair reads the manifest, then writes it; a push of the same version writing it in between
    wrote the same top hash: whichever lands last, the version reads and verifies."""
    from fashion_lib.registry.publish import publish

    bucket = seaweedfs.new_bucket(seaweed, versioned=True)
    files = files_in(tmp_path / "src")
    top_hash = registry.push(NAME, files, registry=bucket)
    drop_pin(seaweed.client("writer"), bucket, top_hash, TEST, files[TEST].read_bytes())
    original, pushed = S3Registry.write, []

    def write(self, key: str, data: bytes) -> None:
        if key == f"{PACKAGES}/{top_hash}" and not pushed:
            pushed.append(None)  # the push's own write of the manifest goes straight through
            pushed[0] = publish(registry.open(bucket), NAME, files)  # lands between the repair's read and write
        original(self, key, data)

    monkeypatch.setattr(S3Registry, "write", write)
    report = registry.verify(registry=bucket, repair=True)
    assert pushed and pushed[0].top_hash == top_hash and len(report.repaired) == 1, report.summary()
    monkeypatch.setattr(S3Registry, "write", original)
    assert registry.verify(registry=bucket).problems == []
    assert registry.fetch(NAME, tmp_path / "d", registry=bucket).top_hash == top_hash


def test_a_readers_repair_says_what_it_could_not_fix_and_checks_on(seaweed, env, client, tmp_path):
    """Review 103: a read-only identity's --repair stopped at the first manifest it could not write, the other
    versions unchecked and no report; before helper 99's repair it ended with exit 3 and every problem listed."""
    bucket = seaweedfs.new_bucket(seaweed, versioned=True)
    first = registry.push(NAME, files_in(tmp_path / "one"), registry=bucket)
    second = registry.push(NAME, files_in(tmp_path / "two", train=b"label,pixel1\n5,5\n"), registry=bucket)
    for top_hash, folder in ((first, "one"), (second, "two")):
        drop_pin(client, bucket, top_hash, TEST, (tmp_path / folder / TEST).read_bytes())
    reader = {**seaweedfs.client_env(seaweed, "reader"), "FASHION_HOME": str(tmp_path / "home")}
    done = cli("packages", "verify", "--registry", bucket, "--repair", **reader)
    assert done.returncode == 3, (done.stdout, done.stderr)
    lines = done.stderr.splitlines()
    for top_hash in (first, second):  # both versions checked, each problem and the refusal said
        assert any(f"{TEST} in {NAME}@{top_hash[:12]} has no object " in line for line in lines), lines
        assert any(f"{NAME}@{top_hash[:12]} not repaired: " in line and "access denied" in line for line in lines)
    assert "Traceback" not in done.stderr
