"""A manifest pinning a version id S3 refuses (HTTP 400), read by HEAD and by GET, on a real SeaweedFS server.

S3 answers a version id it could never have issued (AWS: a malformed one, or one from another server;
SeaweedFS: one with a ``/``) with a 400: to a HEAD without a body (code "400"), to a GET as InvalidArgument
(AWS) or InvalidRequest (SeaweedFS). No version of that id is here: HEAD and GET both read it as missing, so
the entry is reported as having no object, in one line and exit 3, whichever of them meets the 400.
"""

from __future__ import annotations

import uuid

import pytest
import seaweedfs  # tests/ is on sys.path
from botocore.exceptions import ClientError

from fashion_lib import registry
from fashion_lib.errors import IntegrityError, RegistryError
from fashion_lib.registry import manifest as mf
from fashion_lib.registry.check import DamagedObject, check_object
from fashion_lib.registry.s3 import S3Registry
from fashion_lib.registry.s3_errors import missing

NAME = "t/data"
REFUSED = "a%2Fb"  # "a/b": SeaweedFS refuses it with a 400, as AWS does a malformed id


@pytest.fixture
def pinned_refused(seaweed, tmp_path):
    """(bucket, top hash) of a version whose manifest pins test.csv's object at a refused version id."""
    with seaweedfs.use_identity(seaweed, "writer"):
        bucket = seaweed.create_bucket(f"refused-{uuid.uuid4().hex[:12]}", versioned=True)
        (tmp_path / "train.csv").write_bytes(b"label,p\n1,0\n")
        (tmp_path / "test.csv").write_bytes(b"label,p\n3,7\n")
        files = {"train.csv": tmp_path / "train.csv", "test.csv": tmp_path / "test.csv"}
        top_hash = registry.push(NAME, files, registry=bucket)
        reg = registry.open(bucket)
        entry = next(e for e in reg.manifest(NAME, top_hash).entries if e.key == "test.csv")
        key = f".quilt/packages/{top_hash}"
        data = mf.with_physical_keys(
            reg.read(key, mf.MAX_MANIFEST_BYTES),
            {"test.csv": f"{bucket}/objects/{entry.object_name}?versionId={REFUSED}"},
        )
        reg.write(key, data)  # physical keys are not hashed: the top hash still holds
        yield bucket, top_hash


def _entry(bucket: str, top_hash: str):
    reg = registry.open(bucket)
    found = reg.manifest(NAME, top_hash)
    return reg, found, next(e for e in found.entries if e.key == "test.csv")


@pytest.mark.slow  # a real SeaweedFS server
def test_a_get_refusing_a_version_id_says_what_a_head_refusing_it_says(pinned_refused, monkeypatch):
    bucket, top_hash = pinned_refused
    (head_line,) = registry.verify(registry=bucket).problems  # object_size: the HEAD meets the 400
    assert "has no object" in head_line and "version a/b" in head_line, head_line
    reg, found, entry = _entry(bucket, top_hash)
    monkeypatch.setattr(reg, "object_size", lambda e: e.size)  # as if the HEAD had found it: the GET meets the 400
    with pytest.raises(IntegrityError) as caught:  # before: RegistryError "S3 said InvalidRequest: Invalid Request"
        check_object(reg, entry, found.label)
    assert isinstance(caught.value, DamagedObject) and caught.value.exit_code == 3
    assert str(caught.value) == head_line.replace(f"{NAME}@{top_hash[:12]}", found.label)


class _Refusing:
    """A client whose every HEAD gets a bare 400 from an S3 server (as AWS answers a HEAD with an expired
    session token): no SeaweedFS request without a version id gets one."""

    def head_object(self, **request):
        answer = {"Error": {"Code": "400", "Message": "Bad Request"}}
        raise ClientError({**answer, "ResponseMetadata": {"HTTPHeaders": {"x-amz-request-id": "1"}}}, "HeadObject")


def test_a_400_to_a_head_naming_no_version_is_not_missing(monkeypatch):
    monkeypatch.setattr(S3Registry, "client", property(lambda self: _Refusing()))
    reg = S3Registry("s3://bucket")
    entry = mf.Entry("test.csv", 5, "SHA256", "ab" * 32, {}, f"s3://bucket/objects/{'ab' * 32}")
    with (
        pytest.raises(RegistryError, match=r"^checking: s3://bucket: S3 said 400: Bad Request$"),
        reg.errors("checking"),
    ):
        reg.object_size(entry)  # before: None, so "has no object ...; republish the package"
    assert missing(ClientError({"Error": {"Code": "400"}}, "HeadObject"), versioned=True)
    assert missing(ClientError({"Error": {"Code": "InvalidArgument"}}, "GetObject"), versioned=True)
    assert not missing(ClientError({"Error": {"Code": "InvalidArgument"}}, "GetObject"), versioned=False)
