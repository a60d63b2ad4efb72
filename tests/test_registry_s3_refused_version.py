"""A manifest pinning a version id S3 refuses (HTTP 400), read by HEAD and by GET, on a real SeaweedFS server.

S3 answers a version id it could never have issued (AWS: a malformed one, or one from another server;
SeaweedFS: one with a ``/``) with a 400: to a HEAD without a body (code "400"), to a GET as InvalidArgument
(AWS) or InvalidRequest (SeaweedFS). No version of that id is here: HEAD and GET both read it as missing, so
the entry is reported as having no object, in one line and exit 3, whichever of them meets the 400. A HEAD's
bare 400 says no more than "400" (AWS answers an expired session token so too), so one byte of the same
version is asked for by GET, whose answer names S3's reason.
"""

from __future__ import annotations

import uuid

import pytest
import seaweedfs  # tests/ is on sys.path
from botocore.exceptions import ClientError

from fashion_lib import registry
from fashion_lib.errors import IntegrityError, RegistryAccessDenied, RegistryError, RegistryUnreachable
from fashion_lib.registry import manifest as mf
from fashion_lib.registry.object_check import DamagedObject, check_object
from fashion_lib.registry.s3 import S3Registry
from fashion_lib.registry.s3_errors import code_of, missing, s3_errors

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
        # and the current object holds other bytes: where it holds the right ones, fashion reads it in place of the
        # refused version (test_registry_repin.py)
        objects = f"objects/{entry.object_name}"
        seaweed.client("writer").put_object(Bucket=bucket.removeprefix("s3://"), Key=objects, Body=b"other bytes")
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
    assert not missing(ClientError({"Error": {"Code": "400"}}, "HeadObject"), versioned=True)  # asked again
    assert missing(ClientError({"Error": {"Code": "InvalidArgument"}}, "GetObject"), versioned=True)
    assert not missing(ClientError({"Error": {"Code": "InvalidArgument"}}, "GetObject"), versioned=False)


def _error(code: str, operation: str) -> ClientError:
    text = "Bad Request" if code == "400" else code
    answer = {"Error": {"Code": code, "Message": text}, "ResponseMetadata": {"HTTPHeaders": {"x-amz-request-id": "1"}}}
    return ClientError(answer, operation)


class _ExpiredOnAws:
    """AWS with an expired session token: a HEAD gets a bare 400, a GET says why (``get``: its error code, or
    None for the byte asked for)."""

    def __init__(self, get: str | None) -> None:
        self.get, self.asked = get, []

    def head_object(self, **request):
        raise _error("400", "HeadObject")

    def get_object(self, **request):
        self.asked.append(request)
        if self.get:
            raise _error(self.get, "GetObject")
        return {"Body": __import__("io").BytesIO(b"l")}


VERSIONED = mf.Entry("test.csv", 5, "SHA256", "ab" * 32, {}, f"s3://bucket/objects/{'ab' * 32}?versionId=V1")


@pytest.mark.parametrize(
    ("get", "raised", "line"),
    [
        ("ExpiredToken", RegistryAccessDenied, r"^checking: s3://bucket: access denied \(ExpiredToken\); check your"),
        (
            "SlowDown",
            RegistryUnreachable,
            r"^checking: s3://bucket: the server failed \(S3 said SlowDown: SlowDown\), after retries; try again later$",
        ),
        (None, RegistryError, r"^checking: s3://bucket: S3 said 400: Bad Request$"),  # the GET finds it: S3's 400
        ("InvalidRange", RegistryError, r"^checking: s3://bucket: S3 said 400: Bad Request$"),  # found, empty
    ],
)
def test_a_bare_400_to_a_head_naming_a_version_is_what_a_get_of_one_byte_says(monkeypatch, get, raised, line):
    client = _ExpiredOnAws(get)
    monkeypatch.setattr(S3Registry, "client", property(lambda self: client))
    reg = S3Registry("s3://bucket")
    with pytest.raises(raised, match=line) as caught, reg.errors("checking"):
        reg.object_size(VERSIONED)  # before: None, so "has no object ... version V1; republish", exit 3
    assert caught.value.exit_code == raised.exit_code
    assert client.asked == [
        {"Bucket": "bucket", "Key": f"objects/{'ab' * 32}", "VersionId": "V1", "Range": "bytes=0-0"}
    ]


class _RefusingTheVersion(_ExpiredOnAws):
    """A version id refused (the HEAD's bare 400, the GET's code), and no current object to read instead (404)."""

    def head_object(self, **request):
        if "VersionId" not in request:
            raise _error("404", "HeadObject")
        return super().head_object(**request)


@pytest.mark.parametrize("get", ["InvalidArgument", "InvalidRequest", "NoSuchVersion"])  # AWS, SeaweedFS, either
def test_a_bare_400_to_a_head_is_missing_where_the_get_refuses_the_version(monkeypatch, get):
    client = _RefusingTheVersion(get)
    monkeypatch.setattr(S3Registry, "client", property(lambda self: client))
    assert S3Registry("s3://bucket").object_size(VERSIONED) is None
    assert len(client.asked) == 1


@pytest.mark.slow  # a real SeaweedFS server
def test_fetch_says_access_denied_where_aws_answers_an_expired_token_with_a_bare_400(
    pinned_refused, monkeypatch, tmp_path
):
    bucket, top_hash = pinned_refused
    real = S3Registry.client.fget

    class Expired:  # the real server's client, answering what AWS does to an expired token for a pinned version
        def __init__(self, reg):
            self.real = real(reg)

        def __getattr__(self, name):
            return getattr(self.real, name)

        def head_object(self, **request):
            if "VersionId" in request:
                raise _error("400", "HeadObject")
            return self.real.head_object(**request)

        def get_object(self, **request):
            if "VersionId" in request:
                raise _error("ExpiredToken", "GetObject")
            return self.real.get_object(**request)

    with pytest.raises(IntegrityError, match="^test.csv in .* has no object ") as caught:  # as now
        registry.fetch(NAME, tmp_path / "a", registry=bucket, top_hash=top_hash)
    assert caught.value.exit_code == 3
    monkeypatch.setattr(S3Registry, "client", property(Expired))
    with pytest.raises(RegistryAccessDenied) as caught:  # before: exit 3, the line above
        registry.fetch(NAME, tmp_path / "b", registry=bucket, top_hash=top_hash)
    assert caught.value.exit_code == 6
    assert str(caught.value).startswith(f"fetching {NAME}@{top_hash[:12]}: {bucket}")
    assert ": access denied (ExpiredToken); check your AWS credentials" in str(caught.value)
    with pytest.raises(RegistryAccessDenied) as caught:  # before: the ClientError itself, 'internal error', exit 70
        registry.verify(registry=bucket)
    assert ": access denied (ExpiredToken); check your AWS credentials" in str(caught.value)


@pytest.mark.slow  # a real SeaweedFS server
def test_a_timeout_while_naming_a_missing_object_is_one_line(pinned_refused, monkeypatch):
    """Naming a missing object asks S3 once more (where the store keeps it: a HEAD). A timeout there
    was a botocore traceback out of fetch and verify (review h80): now the registry's one line."""
    from botocore.exceptions import ReadTimeoutError

    from fashion_lib.registry.download import _check_located

    bucket, top_hash = pinned_refused
    reg, found, entry = _entry(bucket, top_hash)

    def silent(name):
        raise ReadTimeoutError(endpoint_url=f"http://127.0.0.1:9/{name}")

    monkeypatch.setattr(reg, "physical_key", silent)
    with pytest.raises(RegistryUnreachable, match=f"fetching {NAME}@"):
        _check_located(reg, found)
    with pytest.raises(RegistryUnreachable, match="reading test.csv in "):
        check_object(reg, entry, found.label)


@pytest.mark.parametrize("error", [{"Message": "Bad"}, {"Code": None, "Message": "Bad"}], ids=["absent", "none"])
def test_no_code_is_one_meaning_for_code_of_and_s3_errors(error):
    """Before: code_of said "None" where s3_errors, reading the code itself, said "" (for an absent one) or
    "None" (for None); code_of is now the only reader, and "" means no code. A refactor: the codes compared
    (MISSING, VERSION_REFUSED, DENIED, "400", "InvalidRange") are neither, so no judgement changes."""
    meta = {"HTTPStatusCode": 400, "HTTPHeaders": {"x-amz-request-id": "1"}}
    exc = ClientError({"Error": error, "ResponseMetadata": meta}, "GetObject")
    assert code_of(exc) == ""
    assert not missing(exc, versioned=True)
    with pytest.raises(RegistryError) as caught, s3_errors("reading", "s3://bucket"):
        raise exc
    assert str(caught.value) == "reading: s3://bucket: S3 said: Bad"  # no empty code before the colon
