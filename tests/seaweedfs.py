"""A real S3 server for tests: SeaweedFS on free loopback ports, authentication on.

One server per test session (see the ``seaweed`` fixture in ``conftest.py``), data in a
temporary folder, three identities:

* ``admin``: creates buckets (test setup only; no test publishes as admin);
* ``writer``: reads and writes objects, cannot create buckets: what a team member gets;
* ``reader``: reads and lists only;

plus :func:`wrong_keys_env` (a known access key with the wrong secret) and
:func:`unknown_key_env`. Buckets are made with :func:`new_bucket`, versioned or not.

Request and client counters patch botocore itself, not our registry code, so they see
every HTTP request and every S3 client this process makes, whoever makes it.
"""

from __future__ import annotations

import contextlib
import os
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from fashion_lib.seaweedfs import ADMIN, READ_ONLY, READ_WRITE, Identity, SeaweedServer

IDENTITIES = (
    Identity("admin", "TESTADMIN", "admin-secret-for-tests", ADMIN),
    Identity("writer", "TESTWRITER", "writer-secret-for-tests", READ_WRITE),
    Identity("reader", "TESTREADER", "reader-secret-for-tests", READ_ONLY),
)

# Everything that would make botocore look beyond the variables we set.
ISOLATION = {
    "AWS_EC2_METADATA_DISABLED": "true",
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
}
UNSET = ("AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_ENDPOINT_URL_S3", "AWS_SECURITY_TOKEN")
TEST_KEYS = {"AWS_ACCESS_KEY_ID": "K", "AWS_SECRET_ACCESS_KEY": "S", "AWS_DEFAULT_REGION": "us-east-1"}


def isolate_aws(monkeypatch, endpoint: str | None = "http://127.0.0.1:9", unset: tuple[str, ...] = ()) -> None:
    """Test keys and a region, nothing read from the user's AWS files, no retry variables (nor ``unset``);
    ``endpoint``: AWS_ENDPOINT_URL (a closed port by default), None to leave it alone."""
    for key in (*UNSET, "AWS_MAX_ATTEMPTS", "AWS_RETRY_MODE", *unset):
        monkeypatch.delenv(key, raising=False)
    for key, value in {**ISOLATION, **TEST_KEYS}.items():
        monkeypatch.setenv(key, value)
    if endpoint is not None:
        monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)


@contextlib.contextmanager
def seaweed_server(folder: Path) -> Iterator[SeaweedServer]:
    """A started server with the test identities and its data under ``folder``."""
    with SeaweedServer(folder, IDENTITIES) as server:
        yield server


def client_env(server: SeaweedServer, identity: str = "writer") -> dict[str, str]:
    """Variables for a client (in this process or a child) acting as ``identity``."""
    return {**server.env(identity), **ISOLATION}


def wrong_keys_env(server: SeaweedServer) -> dict[str, str]:
    """The writer's access key with a wrong secret."""
    return {**client_env(server, "writer"), "AWS_SECRET_ACCESS_KEY": "not-the-secret"}


def unknown_key_env(server: SeaweedServer) -> dict[str, str]:
    """An access key the server has never heard of."""
    return {**client_env(server, "writer"), "AWS_ACCESS_KEY_ID": "NOBODY", "AWS_SECRET_ACCESS_KEY": "nothing"}


def subprocess_env(env: dict[str, str]) -> dict[str, str]:
    """This process's environment with ``env`` on top and no stray AWS settings."""
    merged = {k: v for k, v in os.environ.items() if k not in UNSET}
    merged.update(env)
    return merged


@contextlib.contextmanager
def use_identity(server: SeaweedServer, identity: str = "writer") -> Iterator[dict[str, str]]:
    """This process talks to ``server`` as ``identity`` inside the block (os.environ restored after)."""
    saved = dict(os.environ)
    for key in UNSET:
        os.environ.pop(key, None)
    os.environ.update(env := client_env(server, identity))
    try:
        yield env
    finally:
        os.environ.clear()
        os.environ.update(saved)


def new_bucket(server: SeaweedServer, *, versioned: bool) -> str:
    """A new, empty bucket with a unique name: ``s3://test-v-...`` or ``s3://test-u-...``."""
    return server.create_bucket(f"test-{'v' if versioned else 'u'}-{uuid.uuid4().hex[:12]}", versioned=versioned)


@dataclass
class Requests:
    """HTTP requests seen by botocore: (method, path, body size)."""

    seen: list[tuple[str, str, int]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def clear(self) -> None:
        with self.lock:
            self.seen.clear()

    def uploads(self) -> tuple[int, int]:
        """(PUT/POST requests that carried data, bytes they carried)."""
        with self.lock:
            sent = [size for method, _, size in self.seen if method in ("PUT", "POST") and size]
        return len(sent), sum(sent)


@contextlib.contextmanager
def count_requests() -> Iterator[Requests]:
    """Record every HTTP request botocore sends while the block runs."""
    from urllib.parse import urlsplit

    from botocore.httpsession import URLLib3Session

    requests = Requests()
    original = URLLib3Session.send

    def send(self, request):  # type: ignore[no-untyped-def]
        with requests.lock:
            requests.seen.append(
                (request.method, urlsplit(request.url).path, int(request.headers.get("Content-Length") or 0))
            )
        return original(self, request)

    URLLib3Session.send = send
    try:
        yield requests
    finally:
        URLLib3Session.send = original


@contextlib.contextmanager
def count_clients() -> Iterator[list[object]]:
    """Every botocore client created while the block runs."""
    from botocore.client import ClientCreator

    made: list[object] = []
    original = ClientCreator.create_client

    def create_client(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        client = original(self, *args, **kwargs)
        made.append(client)
        return client

    ClientCreator.create_client = create_client
    try:
        yield made
    finally:
        ClientCreator.create_client = original
