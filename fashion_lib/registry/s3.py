"""A registry in an S3 bucket (``s3://bucket``), reached with the client quilt3 would build.

Objects are read from ``objects/<hex>`` in this bucket. A manifest's physical key is used
for two things: its ``versionId``, when it names exactly that key in this bucket (on a
versioned bucket the published bytes survive an overwrite; where that version is gone, the bucket moved or
its objects re-uploaded, the current object is read instead, hash-checked like any); and, for an entry the store has
no object of, the key in this bucket where stock quilt3's ``Package.push`` puts a file
(``<owner>/<name>/<logical key>``), read no further than its size and hashed like any object.
Any other key, in this bucket or another, or anywhere else, is never opened. S3 writes are atomic per object,
so no temporary objects are needed; pointers are checked after writing (see :mod:`.publish`).
"""

from __future__ import annotations

import contextlib
import errno
import os
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import IO, Any
from urllib.parse import parse_qs, quote, unquote, urlparse

from .. import hashing
from ..console import short
from ..errors import RegistryAccessDenied, RegistryError
from . import manifest as mf
from .base import OBJECTS, REMOVE_BATCH, Registry
from .layout import TMP
from .quilt import s3_client
from .records import StoredObject
from .s3_errors import ACCESS_HINT, DENIED, MISSING, bare_400, code_of, missing, s3_errors
from .s3_settings import check_settings, setting_errors


class S3Registry(Registry):
    pointers_need_checking = True

    def __init__(self, url: str) -> None:
        self.location = url.rstrip("/")
        self.bucket = self.location[len("s3://") :].split("/", 1)[0]
        if not self.bucket:
            raise RegistryError(f"{url!r} names no bucket; an S3 registry is s3://BUCKET")
        if "/" in self.location[len("s3://") :]:
            raise RegistryError(f"{url!r}: an S3 registry is a bucket, s3://BUCKET, without a path")
        check_settings()  # a bad AWS variable is named now, before any work, not by boto3 mid-command
        # (object, version pinned or None) -> the version of objects/<hex> a read got without following a pin
        self._unpinned: dict[tuple[str, str | None], str | None] = {}

    def describe(self) -> str:
        endpoint = os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")
        return f"{self.location} (endpoint {endpoint})" if endpoint else self.location

    @property
    def client(self) -> Any:
        with setting_errors():
            return s3_client()

    def errors(self, doing: str) -> contextlib.AbstractContextManager[None]:
        return s3_errors(doing, self.describe())

    # --- primitives -------------------------------------------------------------------
    def read(self, key: str, limit: int) -> bytes | None:
        import botocore.exceptions as bx

        try:
            if limit == 0:
                self.client.head_object(Bucket=self.bucket, Key=key)
                return b""
            body = self.client.get_object(Bucket=self.bucket, Key=key)["Body"]
        except bx.ClientError as exc:
            if code_of(exc) in MISSING:
                return None
            raise
        with contextlib.closing(body):
            return body.read(limit)

    def write(self, key: str, data: bytes) -> None:
        self.client.put_object(Bucket=self.bucket, Key=key, Body=data)

    def list_keys(self, prefix: str) -> list[str]:
        prefix = prefix.rstrip("/") + "/"
        keys = []
        for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix):
            keys += [item["Key"][len(prefix) :] for item in page.get("Contents", [])]
        return sorted(keys)

    def list_objects(self) -> list[StoredObject]:
        prefix = f"{OBJECTS}/"
        found = []
        for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix):
            for item in page.get("Contents", []):
                name = item["Key"][len(prefix) :]
                if mf.OBJECT_NAME.fullmatch(name):
                    found.append(StoredObject(name, int(item["Size"]), item["LastModified"].timestamp()))
        return sorted(found, key=lambda o: o.name)

    def written_at(self, key: str) -> float:
        """When the object at ``key`` was written (Unix seconds, the server's LastModified); 0.0 if it is not
        there (gone since it was listed: no push is writing it)."""
        import botocore.exceptions as bx

        try:
            head = self.client.head_object(Bucket=self.bucket, Key=key)
        except bx.ClientError as exc:
            if code_of(exc) in MISSING:
                return 0.0
            raise
        return head["LastModified"].timestamp()

    def remove_objects(self, names: Sequence[str]) -> None:
        """One DeleteObjects request; a key it could not delete raises, naming the key and S3's code."""
        self._delete(
            [f"{OBJECTS}/{name}" for name in names], lambda key: f"object {short(key.removeprefix(OBJECTS + '/'))}"
        )

    def temporary_leftovers(self) -> list[str]:
        """Keys a copy of a local registry brought along (``aws s3 sync``): its ``.fashion-tmp`` files and the
        ``objects/.*`` files it stages objects in. No S3 writer makes such keys, so none is a live writer's."""
        keys = []
        for prefix in (f"{TMP}/", f"{OBJECTS}/."):
            for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix):
                keys += [item["Key"] for item in page.get("Contents", [])]
        return sorted(keys)

    def clean_temporary(self) -> list[str]:
        """Remove :meth:`temporary_leftovers`; returns where each was (``s3://bucket/key``)."""
        keys = self.temporary_leftovers()
        for start in range(0, len(keys), REMOVE_BATCH):
            self._delete(keys[start : start + REMOVE_BATCH], lambda key: f"leftover {key}")
        return [self.where(key) for key in keys]

    def _delete(self, keys: Sequence[str], named: Callable[[str], str]) -> None:
        """One DeleteObjects request (at most :data:`REMOVE_BATCH` keys); a key it could not delete raises, named
        by ``named(key)``, with S3's code."""
        if not keys:
            return
        answer = self.client.delete_objects(
            Bucket=self.bucket, Delete={"Objects": [{"Key": key} for key in keys], "Quiet": True}
        )
        failed = answer.get("Errors") or []
        if failed:  # DeleteObjects answers 200 and lists the keys it could not delete
            code, key = str(failed[0].get("Code", "")), str(failed[0].get("Key", "?"))
            which = named(key) + (f" and {len(failed) - 1} more" if len(failed) > 1 else "")
            if code in DENIED:
                raise RegistryAccessDenied(
                    f"removing {which}: {self.describe()}: access denied ({code}); {ACCESS_HINT}"
                )
            raise RegistryError(f"removing {which}: {self.describe()}: S3 said {code}: {failed[0].get('Message', '')}")

    def _key(self, entry: mf.Entry) -> str:
        return f"{OBJECTS}/{entry.object_name}"

    def _version(self, entry: mf.Entry) -> dict[str, str]:
        """``VersionId`` from the physical key, only if it names this very object in this bucket."""
        url = urlparse(entry.physical_key or "")
        if url.scheme == "s3" and url.netloc == self.bucket and url.path.lstrip("/") == self._key(entry):
            version = parse_qs(url.query).get("versionId", [None])[0]
            if version and version != "null":
                return {"VersionId": version}
        return {}

    def object_version(self, entry: mf.Entry) -> str | None:
        return self._version(entry).get("VersionId")

    def foreign_key(self, entry: mf.Entry) -> str | None:
        """The key in this bucket where stock quilt3's ``Package.push`` stored ``entry`` (``<owner>/<name>/<logical
        key>``, the name of the package whose manifest names it) if its physical key names that, ``?versionId=``
        included; None for any other key or place: a forged manifest can't point at another package's files."""
        url = urlparse(entry.physical_key or "")
        key = unquote(url.path)[1:]  # as quilt3 reads it (PhysicalKey.from_url)
        package = key.removesuffix(f"/{entry.key}")  # Package.push stores a file at <owner>/<name>/<logical key>
        if url.scheme != "s3" or url.netloc != self.bucket or package == key or package != entry.package:
            return None
        version = parse_qs(url.query).get("versionId", [None])[0]
        return f"{key}?versionId={version}" if version and version != "null" else key

    def _foreign(self, entry: mf.Entry) -> dict[str, str] | None:
        """``Key`` (and ``VersionId``) of :meth:`foreign_key`, for boto3; None where there is none."""
        found = self.foreign_key(entry)
        if found is None:
            return None
        key, _, version = found.partition("?versionId=")
        return {"Key": key, "VersionId": version} if version else {"Key": key}

    def _first(self, entry: mf.Entry, request: Callable[..., dict]) -> dict | None:
        """``request`` (head_object or get_object) of the store's object for ``entry``: the version its manifest
        pins, else, where S3 says that version is not there (a bucket moved or restored, its objects uploaded
        again), the current one (:meth:`pin_gone`); else of the key stock quilt3 pushed it to (:meth:`foreign_key`);
        None where S3 says none is there (:func:`.s3_errors.missing`: HEAD and GET read S3's answers alike, a refused
        version id included: a HEAD's bare 400 is asked again). Every caller hashes what it reads or trusts an ETag."""
        import botocore.exceptions as bx

        pinned = {"Key": self._key(entry), **self._version(entry)}
        current = {"Key": self._key(entry)} if "VersionId" in pinned else None
        for where in (pinned, current, self._foreign(entry)):
            if where is None:
                continue
            try:
                answer = request(Bucket=self.bucket, **where)
            except bx.ClientError as exc:
                error = self._why_400(where, exc) if "VersionId" in where and bare_400(exc) else exc
                if not missing(error, "VersionId" in where):
                    raise error from None
                continue
            if where["Key"] == self._key(entry) and "VersionId" not in where:
                self._unpinned[(entry.object_name, pinned.get("VersionId"))] = answer.get("VersionId")
            return answer
        return None

    def pin_gone(self, entry: mf.Entry) -> bool:
        """Whether a read of ``entry``'s object (:meth:`_first`) found the version its manifest pins gone, and
        read the current one: fashion can read it (hashed), stock quilt3 reads only the pinned version."""
        version = self.object_version(entry)
        return version is not None and (entry.object_name, version) in self._unpinned

    def read_key(self, entry: mf.Entry) -> str | None:
        """The physical key of the version of ``objects/<hex>`` the last read of ``entry``'s object got where it
        followed no pin (none pinned, or gone): what ``verify --repair`` pins; None where no such read was made."""
        key = (entry.object_name, self.object_version(entry))
        return self._url(entry.object_name, self._unpinned[key]) if key in self._unpinned else None

    def key_elsewhere(self, entry: mf.Entry) -> bool:
        """Whether ``entry``'s physical key names neither this bucket's ``objects/<hex>`` nor where stock quilt3
        pushed it (:meth:`foreign_key`): a ``file://`` path of a local registry synced into the bucket, another
        bucket. fashion reads the object here; stock quilt3 goes there."""
        url = urlparse(entry.physical_key or "")
        here = url.scheme == "s3" and url.netloc == self.bucket and unquote(url.path)[1:] == self._key(entry)
        return bool(entry.physical_key) and not here and self.foreign_key(entry) is None

    def _why_400(self, where: dict[str, str], head: Exception) -> Exception:
        """What S3 means by a bare 400 to a HEAD naming a version (its answer has no body: a refused version id, an
        expired session token, a bad region...): the error a GET of one byte of the same version gets, with a
        code (InvalidArgument or InvalidRequest: the id refused; ExpiredToken: access denied); the HEAD's own
        error where the GET finds the version (InvalidRange: it is empty), as S3 gave no reason to go on."""
        import botocore.exceptions as bx

        try:
            answer = self.client.get_object(Bucket=self.bucket, Range="bytes=0-0", **where)
        except bx.ClientError as exc:
            return head if code_of(exc) == "InvalidRange" else exc
        answer["Body"].close()
        return head

    def _head(self, entry: mf.Entry) -> dict | None:
        """The store's object for ``entry``, else the key stock quilt3 pushed it to (:meth:`foreign_key`)."""
        return self._first(entry, self.client.head_object)

    def object_size(self, entry: mf.Entry) -> int | None:
        head = self._head(entry)
        return None if head is None else int(head["ContentLength"])

    def same_bytes(self, entry: mf.Entry, source: Path) -> bool:
        """The object's ETag against the one S3 gives ``source`` uploaded in our part size (MD5s)."""
        head = self._head(entry)
        etag = str((head or {}).get("ETag", "")).strip('"')
        return bool(etag) and etag == hashing.s3_etag(source, hashing.part_size(entry.size))

    @contextlib.contextmanager
    def open_object(self, entry: mf.Entry) -> Iterator[IO[bytes]]:
        """Where :meth:`_head` finds it; FileNotFoundError where S3 says it is not there (gone since)."""
        answer = self._first(entry, self.client.get_object)
        if answer is None:
            raise FileNotFoundError(errno.ENOENT, "no such object", f"{self.location}/{self._key(entry)}")
        with contextlib.closing(answer["Body"]) as body:
            yield body

    def store_object(self, entry: mf.Entry, source: Path) -> bool:
        from boto3.s3.transfer import TransferConfig

        part = hashing.part_size(entry.size)
        config = TransferConfig(multipart_threshold=part, multipart_chunksize=part, use_threads=False)
        from boto3.exceptions import S3UploadFailedError

        try:
            self.client.upload_file(str(source), self.bucket, self._key(entry), Config=config)
        except S3UploadFailedError as exc:  # say what S3 said (no such bucket, access denied, ...)
            cause = exc.__cause__ or exc.__context__
            raise cause if cause is not None else exc from None
        return False  # checked afterwards, by ETag

    def physical_key(self, name: str) -> str:
        """``s3://bucket/objects/<hex>``, with the stored object's ``versionId`` where the bucket keeps versions."""
        import botocore.exceptions as bx

        try:
            version = self.client.head_object(Bucket=self.bucket, Key=f"{OBJECTS}/{name}").get("VersionId")
        except bx.ClientError:
            version = None  # not stored yet (the key a plan is hashed with; physical keys are not hashed)
        return self._url(name, version)

    def _url(self, name: str, version: str | None) -> str:
        url = f"s3://{self.bucket}/{OBJECTS}/{name}"
        return f"{url}?versionId={quote(version, safe='')}" if version and version != "null" else url
