"""A real S3 endpoint for tests: moto's server on 127.0.0.1, plus the patches quilt3 8 needs.

moto 5.2 answers a few S3 calls differently from AWS, and quilt3 8 trips over them for
files of 8 MiB or more (it uploads those in parts):

* CompleteMultipartUpload and UploadPartCopy answer without ``ChecksumSHA256``;
* HeadObject gives a multipart object's checksum without the ``-<parts>`` suffix;
* unversioned buckets may answer ``VersionId: "null"`` where AWS leaves it out.

AWS computes a multipart object's checksum as base64(sha256(part digests)) + "-N".
We close the gaps on the test side only: :func:`install_moto_fixes` registers a quilt3
client hook that adds botocore event handlers to every S3 client quilt3 builds; the
handlers fill in what AWS would have answered. Production code knows nothing of this.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import os
import socket
import threading
from contextlib import contextmanager
from typing import Any, Iterator

_PATCHED = "_fashion_moto_fixes"
# (bucket, key, version or None) -> "checksum-N", for objects completed in parts
_MULTIPART_CHECKSUMS: dict[tuple[str, str, str | None], str] = {}
_LOCK = threading.Lock()
# Every request quilt3's clients send: (HTTP method, path, Content-Length); tests read and clear it.
REQUESTS: list[tuple[str, str, int]] = []
CLIENTS: list[Any] = []  # every distinct client quilt3 was handed


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def moto_server() -> Iterator[str]:
    """Start moto's S3 server on a free loopback port; yield its endpoint URL."""
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no access log on stderr
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


def dummy_aws_env(endpoint: str) -> dict[str, str]:
    """Environment for talking to ``endpoint`` with throwaway credentials, offline."""
    return {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    }


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _remember_params(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
    context["fashion_params"] = dict(params)


def _drop_null_version(parsed: dict[str, Any], **_: Any) -> None:
    if parsed.get("VersionId") == "null":
        del parsed["VersionId"]


def _complete_multipart(parsed: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
    params = context.get("fashion_params", {})
    parts = params.get("MultipartUpload", {}).get("Parts", [])
    if "ChecksumSHA256" in parsed or not parts or not all("ChecksumSHA256" in p for p in parts):
        return
    digests = b"".join(base64.b64decode(p["ChecksumSHA256"]) for p in parts)
    checksum = f"{_b64(hashlib.sha256(digests).digest())}-{len(parts)}"
    parsed["ChecksumSHA256"] = checksum
    with _LOCK:
        _MULTIPART_CHECKSUMS[(params["Bucket"], params["Key"], parsed.get("VersionId"))] = checksum
        _MULTIPART_CHECKSUMS[(params["Bucket"], params["Key"], None)] = checksum  # the current version


def _head_object(parsed: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
    params = context.get("fashion_params", {})
    with _LOCK:
        checksum = _MULTIPART_CHECKSUMS.get((params.get("Bucket"), params.get("Key"), params.get("VersionId")))
    if checksum and "ChecksumSHA256" in parsed and "-" not in parsed["ChecksumSHA256"]:
        parsed["ChecksumSHA256"] = checksum


def _upload_part_copy_handler(client: Any):
    """UploadPartCopy: the part's SHA-256, read back from the server (a plain, unpatched client)."""

    def handler(parsed: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        result = parsed.get("CopyPartResult")
        params = context.get("fashion_params", {})
        if result is None or "ChecksumSHA256" in result:
            return
        source = params["CopySource"]
        get = {"Bucket": source["Bucket"], "Key": source["Key"], "Range": params.get("CopySourceRange")}
        if source.get("VersionId"):
            get["VersionId"] = source["VersionId"]
        body = client.get_object(**{k: v for k, v in get.items() if v})["Body"].read()
        result["ChecksumSHA256"] = _b64(hashlib.sha256(body).digest())

    return handler


def _count_request(request: Any, **_: Any) -> None:
    from urllib.parse import urlsplit

    with _LOCK:
        REQUESTS.append((request.method, urlsplit(request.url).path, int(request.headers.get("Content-Length") or 0)))


def uploads() -> tuple[int, int]:
    """(PUT/POST requests that carry data, bytes they carried) since the last clear."""
    with _LOCK:
        sent = [size for method, _, size in REQUESTS if method in ("PUT", "POST") and size]
    return len(sent), sum(sent)


def patch_client(client: Any) -> Any:
    """Register the moto fixes on one boto3 S3 client (once)."""
    if getattr(client, _PATCHED, False):
        return client
    events = client.meta.events
    for op in ("CompleteMultipartUpload", "HeadObject", "UploadPartCopy"):
        events.register(f"provide-client-params.s3.{op}", _remember_params)
    events.register("after-call.s3.CompleteMultipartUpload", _complete_multipart)
    events.register("after-call.s3.HeadObject", _head_object)
    events.register("after-call.s3.UploadPartCopy", _upload_part_copy_handler(_plain_client(client)))
    events.register("after-call.s3", _drop_null_version)
    events.register("before-send.s3", _count_request)
    setattr(client, _PATCHED, True)
    with _LOCK:
        CLIENTS.append(client)
    return client


def _plain_client(client: Any) -> Any:
    import boto3

    return boto3.client("s3", endpoint_url=client.meta.endpoint_url, region_name=client.meta.region_name)


def install_moto_fixes():
    """Wrap quilt3's S3 client hook (keeping any hook already set); returns the old hook."""
    from fashion_lib import registry

    hooks = registry.quilt().hooks
    previous = hooks.get_build_s3_client_hook()

    def hook(build_client_base, session, client_kwargs, **kwargs):
        build = previous or (lambda base, s, kw, **k: base(s, kw, **k))
        return patch_client(build(build_client_base, session, client_kwargs, **kwargs))

    hooks.set_build_s3_client_hook(hook)
    return previous


def create_bucket(name: str, *, versioned: bool) -> None:
    import boto3

    client = boto3.client("s3")
    client.create_bucket(Bucket=name)
    if versioned:
        client.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
