"""The registry layer against S3: moto's server on 127.0.0.1, over real HTTP, dummy credentials."""

from __future__ import annotations

import os
import time
import uuid
from pathlib import Path
from typing import Iterator

import pytest

from fashion_lib import registry
from fashion_lib.errors import IntegrityError, RegistryError

import s3_server  # tests/ is on sys.path (pytest rootdir-relative imports)

NAME = "fashion-mnist/data"
BIG = 9 << 20  # above quilt3's 8 MiB multipart threshold


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    with s3_server.moto_server() as url:
        saved = dict(os.environ)
        os.environ.update(s3_server.dummy_aws_env(url))
        previous = s3_server.install_moto_fixes()
        try:
            yield url
        finally:
            registry.quilt().hooks.set_build_s3_client_hook(previous)
            os.environ.clear()
            os.environ.update(saved)


def new_bucket(*, versioned: bool) -> str:
    name = f"test-{'v' if versioned else 'u'}-{uuid.uuid4().hex[:12]}"
    s3_server.create_bucket(name, versioned=versioned)
    return f"s3://{name}"


@pytest.fixture
def versioned(endpoint) -> str:
    return new_bucket(versioned=True)


@pytest.fixture
def unversioned(endpoint) -> str:
    return new_bucket(versioned=False)


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


def test_big_file_round_trip_and_cheap_republish(versioned, big_file, small_files, tmp_path):
    files = {"train.csv": big_file, **small_files}
    top_hash = registry.push(NAME, files, registry=versioned, meta={"rows": 1}, message="v1", readme="hi")
    got = registry.fetch(NAME, tmp_path / "out", registry=versioned)
    assert got.top_hash == top_hash and got.meta == {"rows": 1} and got.message == "v1"
    assert got.files["train.csv"].read_bytes() == big_file.read_bytes()
    assert got.files["README.md"].read_text() == "hi"

    s3_server.REQUESTS.clear()
    assert registry.push(NAME, files, registry=versioned, meta={"rows": 1}, message="v1", readme="hi") == top_hash
    assert s3_server.uploads() == (0, 0)  # unchanged: nothing uploaded, not even a manifest
    assert len(registry.list_versions(registry=versioned, name=NAME)) == 1

    small_files["test.csv"].write_bytes(b"label,pixel1\n4,4\n")
    s3_server.REQUESTS.clear()
    registry.push(NAME, files, registry=versioned, meta={"rows": 1}, message="v2", readme="hi")
    count, sent = s3_server.uploads()
    assert sent < 1 << 20, f"{sent} bytes uploaded: the unchanged 9 MiB file was sent again"


def test_overwritten_object_on_unversioned_bucket_is_caught(unversioned, small_files, tmp_path):
    top_hash = registry.push(NAME, small_files, registry=unversioned)
    bucket, key = physical_key(unversioned, top_hash, "test.csv")
    import boto3

    boto3.client("s3").put_object(Bucket=bucket, Key=key, Body=b"label,pixel1\n3,8\n")  # same size
    with pytest.raises(IntegrityError) as info:
        registry.fetch(NAME, tmp_path / "out", registry=unversioned)
    assert "test.csv" in str(info.value) and f"{NAME}@{top_hash[:7]}" in str(info.value)
    assert "overwritten" in str(info.value)
    assert not (tmp_path / "out").exists() and list(tmp_path.glob(".out*")) == []


def test_versioned_bucket_returns_the_published_bytes_after_overwrite(versioned, small_files, tmp_path):
    original = small_files["test.csv"].read_bytes()
    top_hash = registry.push(NAME, small_files, registry=versioned)
    bucket, key = physical_key(versioned, top_hash, "test.csv")
    import boto3

    boto3.client("s3").put_object(Bucket=bucket, Key=key, Body=b"something else")
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
    before = len(s3_server.CLIENTS)
    registry.list_versions(registry=versioned)
    registry.read_meta(NAME, registry=versioned)
    registry.fetch(NAME, tmp_path / "again", registry=versioned)
    assert len(s3_server.CLIENTS) == before  # no new client for the same identity and endpoint


def test_missing_bucket_and_unknown_package(endpoint, small_files, tmp_path, versioned):
    with pytest.raises(RegistryError, match="bucket does not exist"):
        registry.push(NAME, small_files, registry=f"s3://no-such-bucket-{uuid.uuid4().hex[:8]}")
    with pytest.raises(RegistryError, match=f"package {NAME} is not in s3://.*endpoint"):
        registry.fetch(NAME, tmp_path / "out", registry=versioned)


def test_unreachable_endpoint_fails_fast_with_a_clear_message(endpoint, small_files, tmp_path, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{s3_server.free_port()}")  # nobody listens
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
