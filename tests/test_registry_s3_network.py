"""An S3 registry whose network fails: the endpoint setting malformed, a server that speaks plain HTTP
to https://, one that goes away mid-answer, one that stops answering. Each is one line with the
README's exit code: 2 for a bad setting, 5 for a registry that cannot be reached.

The server is the session's SeaweedFS; a connection that breaks mid-answer is a real TCP proxy in
front of it that closes the connection, and a frozen server a real socket that accepts connections
and never answers (what a stopped process's listening socket does).
"""

from __future__ import annotations

import importlib
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import seaweedfs  # tests/ is on sys.path
from cli_support import cli, one_line

from fashion_lib import registry
from fashion_lib.errors import ConfigError, RegistryUnreachable
from fashion_lib.settings import TEST_CSV, TRAIN_CSV

NAME = "team/big"
ROOT = Path(__file__).resolve().parents[1]
quilt_module = importlib.import_module("fashion_lib.registry.quilt")  # registry.quilt is the function


# --- the endpoint setting ----------------------------------------------------------------


@pytest.mark.parametrize(
    "value, why",
    [
        ("notaurl", "not an http:// or https:// URL"),
        ("ftp://host", "not an http:// or https:// URL"),
        ("http://", "it names no host"),
        ("http://host:99999", "its port is not a number from 1 to 65535"),
        ("http://my_host:9000", "not a host name boto3 accepts (letters, digits, hyphens and dots) or an IP address"),
        (" http://host", "it holds spaces or control characters"),
    ],
)
@pytest.mark.parametrize("variable", ["AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3"])
def test_a_malformed_endpoint_is_a_setting_error_naming_it(monkeypatch, variable, value, why):
    """Before: exit 70, "internal error: ValueError: Invalid endpoint: notaurl"."""
    monkeypatch.delenv("AWS_ENDPOINT_URL_S3", raising=False)
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError) as caught:
        registry.open("s3://bucket")
    assert str(caught.value) == (
        f"{variable} is {value!r}: {why}; expected an S3 endpoint, http(s)://HOST[:PORT], e.g. http://127.0.0.1:8333"
    )
    assert registry.open(str(Path.cwd())).describe()  # a local registry does not care


@pytest.mark.parametrize("value", ["notaurl", "   "])
def test_a_malformed_endpoint_through_the_cli_is_exit_2(tmp_path, value):
    done = cli("packages", "list", "--registry", "s3://bucket", FASHION_HOME=str(tmp_path), AWS_ENDPOINT_URL=value)
    line = one_line(done)
    assert done.returncode == 2 and line.startswith("fashion: error: AWS_ENDPOINT_URL is "), done.stderr
    assert "expected an S3 endpoint, http(s)://HOST[:PORT]" in line


def test_a_malformed_endpoint_is_named_alone_when_fashion_registry_names_the_bucket(tmp_path):
    """Before: 'FASHION_REGISTRY: AWS_ENDPOINT_URL is ...', blaming a variable that was right."""
    env = {"FASHION_HOME": str(tmp_path), "FASHION_REGISTRY": "s3://bucket", "AWS_ENDPOINT_URL": "htp://x"}
    done = cli("packages", "list", **env)
    assert done.returncode == 2 and one_line(done).startswith("fashion: error: AWS_ENDPOINT_URL is 'htp://x'")


# --- the server's network ----------------------------------------------------------------


@pytest.fixture(scope="module")
def published(seaweed, tmp_path_factory) -> tuple[str, bytes]:
    """A bucket holding NAME: a 9 MiB train CSV (its GET is long enough to break off) and a small test CSV."""
    data = os.urandom(9 << 20)
    folder = tmp_path_factory.mktemp("published")
    path, small = folder / "big.bin", folder / "small.csv"
    path.write_bytes(data)
    small.write_text("label,pixel1\n1,0\n")
    with seaweedfs.use_identity(seaweed, "writer"):
        bucket = seaweedfs.new_bucket(seaweed, versioned=True)
        registry.push(NAME, {TRAIN_CSV: path, TEST_CSV: small}, registry=bucket)  # `data fetch` wants both
    return bucket, data


class BreakingProxy:
    """A TCP proxy to ``port`` that closes each connection once it has passed ``limit`` bytes of answers."""

    def __init__(self, port: int, limit: int) -> None:
        self.target, self.limit = port, limit
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.broken = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:  # closed
                return
            server = socket.create_connection(("127.0.0.1", self.target))
            threading.Thread(target=self._pump, args=(client, server, None), daemon=True).start()
            threading.Thread(target=self._pump, args=(server, client, self.limit), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket, limit: int | None) -> None:
        passed = 0
        try:
            while chunk := source.recv(65536):
                if limit is not None and passed + len(chunk) > limit:
                    sink.sendall(chunk[: limit - passed])
                    self.broken += 1
                    break
                sink.sendall(chunk)
                passed += len(chunk)
        except OSError:
            pass
        for end in (source, sink):  # shutdown, not only close: it wakes the other pump's recv() at once
            try:
                end.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            end.close()

    def close(self) -> None:
        self.listener.close()


@pytest.mark.slow  # a real SeaweedFS server
def test_a_server_gone_mid_fetch_is_unreachable_and_leaves_dest_alone(seaweed, published, tmp_path):
    """Before: exit 2, "...: 1048576 read, but total bytes expected is 9437184."."""
    bucket, _ = published
    proxy = BreakingProxy(seaweed.port, limit=1 << 20)
    dest = tmp_path / "dest"
    dest.mkdir()
    (dest / "mine.txt").write_text("kept")
    env = {**seaweedfs.client_env(seaweed, "reader"), "AWS_ENDPOINT_URL": f"http://127.0.0.1:{proxy.port}"}
    try:
        done = subprocess.run(
            [sys.executable, "-m", "fashion_lib", "data", "fetch", "--registry", bucket, "--name", NAME,
             "--dest", str(dest)],
            capture_output=True, text=True, timeout=300, cwd=ROOT,
            env=seaweedfs.subprocess_env({**env, "FASHION_HOME": str(tmp_path / "home")}),
        )  # fmt: skip
    finally:
        proxy.close()
    assert proxy.broken, "the proxy broke no answer off: the test tests nothing"
    assert done.returncode == 5, done.stderr
    assert done.stderr.startswith(f"fashion: error: reading {TRAIN_CSV} in {NAME}@") and "Traceback" not in done.stderr
    assert f"cannot reach {bucket} (endpoint http://127.0.0.1:{proxy.port}) (the connection broke off" in done.stderr
    assert [p.name for p in dest.iterdir()] == ["mine.txt"] and (dest / "mine.txt").read_text() == "kept"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dest"]  # no staging folder left beside it


@pytest.mark.slow  # a real SeaweedFS server
def test_https_to_a_plain_http_server_says_so(seaweed, published, monkeypatch):
    """Before: exit 2, "SSL validation failed ... [SSL: WRONG_VERSION_NUMBER] wrong version number"."""
    bucket, _ = published
    for key, value in seaweedfs.client_env(seaweed, "reader").items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"https://127.0.0.1:{seaweed.port}")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    with pytest.raises(
        RegistryUnreachable, match="the endpoint does not speak HTTPS .*use an http:// AWS_ENDPOINT_URL"
    ):
        registry.list_versions(registry=bucket)


@pytest.fixture
def frozen_server() -> Iterator[int]:
    """A port whose connections are accepted (by the kernel) and never answered: a stopped server."""
    with socket.create_server(("127.0.0.1", 0), backlog=16) as listener:
        yield listener.getsockname()[1]


@pytest.mark.slow  # waits out four read timeouts of a second
def test_a_silent_server_is_said_on_the_first_retry(frozen_server, monkeypatch, capsys):
    """Before: nothing for four read timeouts (4 x 60 s), then exit 5."""
    monkeypatch.setattr(quilt_module, "READ_TIMEOUT_S", 1)  # 60 s for real: a test can't wait that long
    monkeypatch.setattr(importlib.import_module("fashion_lib.registry.silence"), "_told", False)  # once per process
    keys = {"AWS_ACCESS_KEY_ID": "K", "AWS_SECRET_ACCESS_KEY": "S", "AWS_DEFAULT_REGION": "us-east-1"}
    for key, value in {**seaweedfs.ISOLATION, **keys}.items():
        monkeypatch.setenv(key, value)
    for key in seaweedfs.UNSET:
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{frozen_server}")
    monkeypatch.delenv("AWS_MAX_ATTEMPTS", raising=False)
    monkeypatch.delenv("AWS_RETRY_MODE", raising=False)
    with pytest.raises(RegistryUnreachable, match="cannot reach s3://frozen .*Read timeout"):
        registry.list_versions(registry="s3://frozen")
    assert capsys.readouterr().err == (
        f"s3://frozen: no answer from http://127.0.0.1:{frozen_server} within 1 s; "
        "retrying, up to 3 more times (Ctrl-C stops)\n"
    )
