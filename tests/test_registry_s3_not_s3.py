"""An AWS_ENDPOINT_URL that names a server which is not S3 (a plain web server, a proxy's error page): one
line naming the endpoint and saying it answered, but not as S3 would, exit 5 (the README's "registry
unreachable ... endpoint"). The servers are real ones on loopback: ``python3 -m http.server``, and
small handlers for a page on every path and a gateway's 502.
"""

from __future__ import annotations

import http.server
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import seaweedfs  # tests/ is on sys.path
from cli_support import cli, one_line

from fashion_lib import registry
from fashion_lib.errors import RegistryUnreachable

NOT_S3 = "the endpoint answered, but not as an S3 server would ({}); check that AWS_ENDPOINT_URL is the S3 server's URL"


def s3_env(port: int, home: Path) -> dict[str, str]:
    keys = {"AWS_ACCESS_KEY_ID": "K", "AWS_SECRET_ACCESS_KEY": "S", "AWS_DEFAULT_REGION": "us-east-1"}
    return {**seaweedfs.ISOLATION, **keys, "AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}", "AWS_MAX_ATTEMPTS": "1",
            "FASHION_HOME": str(home)}  # fmt: skip


@pytest.fixture
def web_server(tmp_path) -> Iterator[tuple[int, Path]]:
    """``python3 -m http.server`` on a loopback port, serving an empty folder (its port and folder)."""
    folder = tmp_path / "www"
    folder.mkdir()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1", "--directory", str(folder)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline and server.poll() is None, "http.server did not start"
                time.sleep(0.1)
        yield port, folder
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_a_plain_web_server_as_the_endpoint_is_named_as_no_s3_server(web_server, tmp_path):
    """Before: "listing packages: s3://team (endpoint ...): S3 said 404: Not Found", exit 2."""
    port, _ = web_server
    done = cli("packages", "list", "--registry", "s3://team", **s3_env(port, tmp_path / "home"))
    assert done.returncode == 5, done.stderr
    assert one_line(done) == (
        f"fashion: error: listing packages: s3://team (endpoint http://127.0.0.1:{port}): "
        + NOT_S3.format("HTTP 404 with a web page")
    )


def test_a_web_server_with_a_folder_named_like_the_bucket(web_server, tmp_path):
    """Before: its redirect (HTTP 301 to team/) sent botocore's region redirector round in circles until
    "maximum recursion depth exceeded" (`packages list`: an internal error, exit 70)."""
    port, folder = web_server
    (folder / "team").mkdir()
    done = cli("data", "fetch", "--registry", "s3://team", "--dest", str(tmp_path / "dest"),
               **s3_env(port, tmp_path / "home"))  # fmt: skip
    assert done.returncode == 5, done.stderr
    assert one_line(done).endswith(NOT_S3.format("HTTP 301 without an S3 error in it"))
    assert not (tmp_path / "dest").exists()


class Page(http.server.BaseHTTPRequestHandler):
    """One answer to every request: ``status`` with a body of ``kind``."""

    status, kind, body = 200, "text/html", b"<!DOCTYPE html><html><head><title>Welcome to nginx!</title></html>"

    def do_GET(self) -> None:
        self.send_response(self.status)
        self.send_header("Content-Type", self.kind)
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(self.body)

    do_HEAD = do_PUT = do_POST = do_GET

    def log_message(self, *args: object) -> None:
        pass


class Gateway(Page):
    status, kind, body = 502, "text/plain", b"bad gateway"


class Tidy(Page):
    body = b"<html><body>Welcome</body></html>"  # well-formed XML: botocore leaves its 200 alone


class Json(Page):
    kind, body = "application/json", b'{"hello": "world"}'


@pytest.mark.parametrize(
    "handler, answer",
    [
        (Page, "a web page where S3 sends XML"),  # before: "S3 said 500: Internal Server Error", 4 tries
        (Tidy, "HTTP 200 with a web page"),  # before: an empty bucket, "0 version(s)", exit 0
        (Gateway, "HTTP 502 Bad Gateway"),  # before: "S3 said 502: Bad Gateway", exit 2
        (Json, "application/json where S3 sends XML"),  # before: "S3 said 500: Internal Server Error"
    ],
)
def test_answers_no_s3_server_gives(monkeypatch, tmp_path, handler, answer):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        for key in seaweedfs.UNSET:
            monkeypatch.delenv(key, raising=False)
        for key, value in s3_env(server.server_address[1], tmp_path).items():
            monkeypatch.setenv(key, value)
        with pytest.raises(RegistryUnreachable) as caught:
            registry.list_versions(registry="s3://team")
        assert str(caught.value) == (
            f"listing packages: s3://team (endpoint http://127.0.0.1:{server.server_address[1]}): "
            + NOT_S3.format(answer)
        )
    finally:
        server.shutdown()
        server.server_close()


class Failing(Page):
    """An S3 server failing (what a SeaweedFS stopped mid-push answered, helper 73): S3's own XML error, 500."""

    status, kind = 500, "application/xml"
    body = (
        b'<?xml version="1.0" encoding="UTF-8"?><Error><Code>InternalError</Code>'
        b"<Message>We encountered an internal error, please try again.</Message><RequestId>1</RequestId></Error>"
    )

    def send_response(self, code: int, message: str | None = None) -> None:
        super().send_response(code, message)
        self.send_header("x-amz-request-id", "1")  # an S3 server's answer


def test_an_s3_server_failing_is_exit_5_not_a_usage_mistake(tmp_path):
    """Before: 'S3 said InternalError: ...', exit 2 (the README's usage mistake)."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Failing)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        done = cli("packages", "list", "--registry", "s3://team", **s3_env(server.server_address[1], tmp_path))
    finally:
        server.shutdown()
        server.server_close()
    assert done.returncode == RegistryUnreachable.exit_code, done.stderr
    assert one_line(done).endswith(
        "the server failed (S3 said InternalError: We encountered an internal error, please try again.), "
        "after retries; try again later"
    )
