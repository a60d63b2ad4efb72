"""The registry layer against a real S3 server: SeaweedFS on loopback, authentication on.

Every test publishes as the ``writer`` identity (reads and writes, cannot create buckets)
unless it says otherwise; buckets are made by the ``admin`` identity. Access denied,
read-only, wrong keys and missing buckets are the real server's answers. No emulator
is needed: every fault tested here a real server produces (an unreachable endpoint is
a closed port).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import seaweedfs  # tests/ is on sys.path (pytest rootdir-relative imports)

from fashion_lib import registry
from fashion_lib.errors import IntegrityError, RegistryError
from fashion_lib.seaweedfs import free_base_port

pytestmark = pytest.mark.slow  # a real SeaweedFS server, multi-process writers (~2 min in all)

NAME = "fashion-mnist/data"
BIG = 9 << 20  # above quilt3's 8 MiB multipart threshold
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def endpoint(seaweed) -> Iterator[str]:
    """This process talks to the session's SeaweedFS as the writer identity."""
    with seaweedfs.use_identity(seaweed, "writer"):
        yield seaweed.endpoint


@pytest.fixture
def as_identity(endpoint, seaweed, monkeypatch):
    """Switch this process to another identity (or wrong keys) for one test."""

    def switch(env: dict[str, str]) -> None:
        for key, value in env.items():
            monkeypatch.setenv(key, value)

    return switch


@pytest.fixture
def versioned(endpoint, seaweed) -> str:
    return seaweedfs.new_bucket(seaweed, versioned=True)


@pytest.fixture
def unversioned(endpoint, seaweed) -> str:
    return seaweedfs.new_bucket(seaweed, versioned=False)


@pytest.fixture(scope="module")
def big_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("big") / "train.csv"
    path.write_bytes(os.urandom(BIG))
    return path


@pytest.fixture
def small_files(tmp_path: Path) -> dict[str, Path]:
    (tmp_path / "test.csv").write_bytes(b"label,pixel1\n3,7\n")
    (tmp_path / "extra.csv").write_bytes(b"label,pixel1\n1,1\n")
    return {"test.csv": tmp_path / "test.csv", "extra.csv": tmp_path / "extra.csv"}


def physical_key(bucket: str, top_hash: str, logical_key: str) -> tuple[str, str]:
    pkg = registry.quilt().Package.browse(NAME, registry=bucket, top_hash=top_hash)
    pk = pkg[logical_key].physical_key
    return pk.bucket, pk.path


# --- publishing and fetching ---------------------------------------------------------


def test_big_file_round_trip_and_cheap_republish(versioned, big_file, small_files, tmp_path):
    files = {"train.csv": big_file, **small_files}
    top_hash = registry.push(NAME, files, registry=versioned, meta={"rows": 1}, message="v1", readme="hi")
    got = registry.fetch(NAME, tmp_path / "out", registry=versioned)
    assert got.top_hash == top_hash and got.meta == {"rows": 1} and got.message == "v1"
    assert got.files["train.csv"].read_bytes() == big_file.read_bytes()
    assert got.files["README.md"].read_text() == "hi"

    with seaweedfs.count_requests() as requests:
        assert registry.push(NAME, files, registry=versioned, meta={"rows": 1}, message="v1", readme="hi") == top_hash
    assert requests.seen, "the request counter saw nothing: it is not counting"
    assert requests.uploads() == (0, 0)  # unchanged: nothing uploaded, not even a manifest
    assert len(registry.list_versions(registry=versioned, name=NAME)) == 1

    small_files["test.csv"].write_bytes(b"label,pixel1\n4,4\n")
    with seaweedfs.count_requests() as requests:
        registry.push(NAME, files, registry=versioned, meta={"rows": 1}, message="v2", readme="hi")
    count, sent = requests.uploads()
    assert count > 0 and sent < 1 << 20, f"{sent} bytes uploaded: the unchanged 9 MiB file was sent again"


def test_overwritten_object_on_unversioned_bucket_is_caught(unversioned, small_files, tmp_path, seaweed):
    top_hash = registry.push(NAME, small_files, registry=unversioned)
    bucket, key = physical_key(unversioned, top_hash, "test.csv")
    seaweed.client("writer").put_object(Bucket=bucket, Key=key, Body=b"label,pixel1\n3,8\n")  # same size
    with pytest.raises(IntegrityError) as info:
        registry.fetch(NAME, tmp_path / "out", registry=unversioned)
    assert "test.csv" in str(info.value) and f"{NAME}@{top_hash[:7]}" in str(info.value)
    assert "overwritten" in str(info.value)
    assert not (tmp_path / "out").exists() and list(tmp_path.glob(".out*")) == []


def test_versioned_bucket_returns_the_published_bytes_after_overwrite(versioned, small_files, tmp_path, seaweed):
    original = small_files["test.csv"].read_bytes()
    top_hash = registry.push(NAME, small_files, registry=versioned)
    bucket, key = physical_key(versioned, top_hash, "test.csv")
    seaweed.client("writer").put_object(Bucket=bucket, Key=key, Body=b"something else")
    assert registry.fetch(NAME, tmp_path / "out", registry=versioned).files["test.csv"].read_bytes() == original


def test_older_versions_stay_valid_on_unversioned_bucket(unversioned, big_file, small_files, tmp_path, same_second):
    first = registry.push(NAME, {"train.csv": big_file, **small_files}, registry=unversioned, message="one")
    small_files["test.csv"].write_bytes(b"label,pixel1\n5,5\n")
    second = registry.push(NAME, small_files, registry=unversioned, message="two")  # in the same second
    versions = registry.list_versions(registry=unversioned)
    assert [(v.top_hash, v.message) for v in versions] == [(second, "two"), (first, "one")]
    old = registry.fetch(NAME, tmp_path / "old", registry=unversioned, top_hash=first[:8])
    assert old.files["test.csv"].read_bytes() == b"label,pixel1\n3,7\n"
    assert old.files["train.csv"].stat().st_size == BIG
    assert registry.read_meta(NAME, registry=unversioned)[0] == second


def test_clients_are_reused(versioned, small_files, tmp_path):
    registry.push(NAME, small_files, registry=versioned)
    registry.fetch(NAME, tmp_path / "out", registry=versioned)
    with seaweedfs.count_clients() as made:
        registry.list_versions(registry=versioned)
        registry.read_meta(NAME, registry=versioned)
        registry.fetch(NAME, tmp_path / "again", registry=versioned)
    assert made == []  # no new client for the same identity and endpoint


# --- what the server refuses ------------------------------------------------------------


def test_missing_bucket_and_unknown_package(endpoint, small_files, tmp_path, versioned):
    missing = f"s3://no-such-bucket-{uuid.uuid4().hex[:8]}"
    with pytest.raises(RegistryError, match="bucket does not exist"):
        registry.push(NAME, small_files, registry=missing)
    with pytest.raises(RegistryError, match="bucket does not exist"):
        registry.list_versions(registry=missing)
    with pytest.raises(RegistryError, match="bucket does not exist"):
        registry.fetch(NAME, tmp_path / "out", registry=missing)
    with pytest.raises(RegistryError, match=f"package {NAME} is not in s3://.*endpoint"):
        registry.fetch(NAME, tmp_path / "out", registry=versioned)
    assert not (tmp_path / "out").exists()


def test_read_only_identity_can_fetch_but_not_publish(versioned, small_files, tmp_path, seaweed, as_identity):
    top_hash = registry.push(NAME, small_files, registry=versioned, message="by the writer")
    as_identity(seaweedfs.client_env(seaweed, "reader"))
    assert registry.fetch(NAME, tmp_path / "out", registry=versioned).top_hash == top_hash
    assert [v.top_hash for v in registry.list_versions(registry=versioned)] == [top_hash]

    small_files["test.csv"].write_bytes(b"label,pixel1\n9,9\n")
    with pytest.raises(RegistryError, match=r"publishing .*access denied \(AccessDenied\)"):
        registry.push(NAME, small_files, registry=versioned, message="by the reader")
    as_identity(seaweedfs.client_env(seaweed, "writer"))
    assert [v.top_hash for v in registry.list_versions(registry=versioned)] == [top_hash]


def test_writer_cannot_create_a_bucket_by_publishing(endpoint, small_files, seaweed):
    name = f"never-made-{uuid.uuid4().hex[:8]}"
    with pytest.raises(RegistryError, match="bucket does not exist"):
        registry.push(NAME, small_files, registry=f"s3://{name}")
    assert name not in [b["Name"] for b in seaweed.client("admin").list_buckets()["Buckets"]]


@pytest.mark.parametrize("keys", ["wrong secret", "unknown key"])
def test_wrong_keys_are_access_denied(versioned, small_files, tmp_path, seaweed, as_identity, keys):
    registry.push(NAME, small_files, registry=versioned)
    as_identity(seaweedfs.wrong_keys_env(seaweed) if keys == "wrong secret" else seaweedfs.unknown_key_env(seaweed))
    for call in (
        lambda: registry.list_versions(registry=versioned),
        lambda: registry.fetch(NAME, tmp_path / "out", registry=versioned),
        lambda: registry.push(NAME, small_files, registry=versioned),
    ):
        with pytest.raises(RegistryError, match=r"access denied \(.+\); check your AWS credentials"):
            call()
    assert not (tmp_path / "out").exists()


def test_unreachable_endpoint_fails_fast_with_a_clear_message(endpoint, small_files, tmp_path, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{free_base_port()}")  # nobody listens
    for call in (
        lambda: registry.push(NAME, small_files, registry="s3://bucket"),
        lambda: registry.fetch(NAME, tmp_path / "out", registry="s3://bucket"),
        lambda: registry.list_versions(registry="s3://bucket"),
    ):
        start = time.monotonic()
        with pytest.raises(RegistryError, match="cannot reach s3://bucket .*check AWS_ENDPOINT_URL"):
            call()
        assert time.monotonic() - start < 20
    assert not (tmp_path / "out").exists()


# --- the same through the command line ---------------------------------------------------


def fashion(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "fashion_lib", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env=seaweedfs.subprocess_env({**env, "PYTHONPATH": str(ROOT)}),
        timeout=120,
    )


def assert_one_line_error(done: subprocess.CompletedProcess, *needles: str) -> None:
    """Non-zero exit; the error is one line, the last, after any progress lines; no traceback."""
    lines = done.stderr.strip().splitlines()
    assert done.returncode != 0, done.stdout
    errors = [line for line in lines if line.startswith("fashion: error: ")]
    assert errors == lines[-1:], done.stderr
    assert "Traceback" not in done.stderr
    for needle in needles:
        assert needle in errors[0], errors[0]


def write_csv(path: Path, labels: range) -> None:
    header = "label," + ",".join(f"pixel{i}" for i in range(1, 785))
    path.write_text("\n".join([header, *(f"{label}," + ",".join(["0"] * 784) for label in labels)]) + "\n")


def test_cli_errors_are_one_line(versioned, seaweed, tmp_path):
    write_csv(tmp_path / "train.csv", range(10))
    write_csv(tmp_path / "test.csv", range(10))
    push = [
        "data",
        "push",
        "--train",
        "train.csv",
        "--test",
        "test.csv",
        "--registry",
        versioned,
        "--accept",
        "ten synthetic rows: the registry, not the data, is under test",
    ]
    reader, writer = seaweedfs.client_env(seaweed, "reader"), seaweedfs.client_env(seaweed, "writer")
    missing = f"s3://no-such-bucket-{uuid.uuid4().hex[:8]}"

    assert_one_line_error(fashion(push, reader, tmp_path), "access denied (AccessDenied)", versioned)
    assert_one_line_error(
        fashion(["packages", "list", "--registry", versioned], seaweedfs.wrong_keys_env(seaweed), tmp_path),
        "access denied",
        "AWS_ACCESS_KEY_ID",
    )
    assert_one_line_error(
        fashion(["data", "fetch", "--dest", "out", "--registry", missing], writer, tmp_path),
        "bucket does not exist",
        missing,
    )
    assert not (tmp_path / "out").exists()

    published = fashion(push, writer, tmp_path)
    assert published.returncode == 0, published.stderr
    listed = fashion(["packages", "list", "--registry", versioned], reader, tmp_path)
    assert listed.returncode == 0 and NAME in listed.stdout, listed.stderr


# --- two team members at once -------------------------------------------------------------

PUSHES = 4  # versions each process publishes


def test_two_processes_pushing_to_one_bucket_keep_every_version(versioned, seaweed, tmp_path):
    """Two writers publish versions of one package at the same time; none may be lost."""
    worker = Path(__file__).with_name("s3_push_worker.py")
    env = seaweedfs.subprocess_env({**seaweedfs.client_env(seaweed, "writer"), "PYTHONPATH": str(ROOT)})
    start_at = time.time() + 8  # both start pushing in the same second, after their imports
    procs = [
        subprocess.Popen(
            [sys.executable, str(worker), versioned, NAME, who, str(PUSHES), str(start_at), str(tmp_path / who)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for who in ("alice", "bob")
    ]
    published = []
    for proc in procs:
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
        published += out.split()
    assert len(set(published)) == 2 * PUSHES

    kept = {v.top_hash for v in registry.list_versions(registry=versioned, name=NAME)}
    lost = set(published) - kept
    assert not lost, f"{len(lost)} of {len(published)} versions lost: {sorted(h[:7] for h in lost)}"
    for top_hash in published:
        assert registry.read_meta(NAME, registry=versioned, top_hash=top_hash)[0] == top_hash


def test_each_new_bucket_takes_one_volume_so_many_buckets_fit(seaweed):
    """SeaweedFS grows seven volumes per new bucket by default; its free-disk slots then ran out
    after about 20 buckets and every later write was S3's InternalError (a CI run of the whole
    suite hit it). Our server grows one, so buckets are limited by data, not by their number."""
    import json
    import urllib.request

    buckets = [seaweedfs.new_bucket(seaweed, versioned=i == 0).removeprefix("s3://") for i in range(3)]
    writer = seaweed.client("writer")
    for bucket in buckets:
        writer.put_object(Bucket=bucket, Key="x", Body=b"one small object")
    with urllib.request.urlopen(f"http://{seaweed.host}:{seaweed.port + 1}/dir/status", timeout=10) as reply:
        topology = json.load(reply)["Topology"]
    volumes = {layout["collection"]: layout["writables"] for layout in topology["Layouts"]}
    assert {bucket: len(volumes.get(bucket, [])) for bucket in buckets} == {bucket: 1 for bucket in buckets}
    assert topology["Max"] >= 1000
