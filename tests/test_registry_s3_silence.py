"""An S3 server that keeps a request waiting is said within seconds (``silence.SLOW_S``, 10 s for real), not
after the 60 s read timeout: once per process, never when the answer comes in time, and no timer thread
outlives its request (an answer, a timeout, Ctrl-C).

The servers are real loopback sockets: one that accepts connections and never answers (a stopped
server), one that answers every request with an empty S3 listing.
"""

from __future__ import annotations

import importlib
import socket
import threading
import time
from collections.abc import Iterator

import pytest
import seaweedfs  # tests/ is on sys.path

from fashion_lib import registry
from fashion_lib.errors import RegistryUnreachable

quilt_module = importlib.import_module("fashion_lib.registry.quilt")  # registry.quilt is the function
silence = importlib.import_module("fashion_lib.registry.silence")

LISTING = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n'
    b'<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>quick</Name><Prefix></Prefix>'
    b"<KeyCount>0</KeyCount><MaxKeys>1000</MaxKeys><IsTruncated>false</IsTruncated></ListBucketResult>"
)


@pytest.fixture
def said(monkeypatch) -> list[tuple[float, str]]:
    """The lines about a silent server, each with the ``time.monotonic()`` it was said at; told afresh."""
    lines: list[tuple[float, str]] = []
    monkeypatch.setattr(silence, "_told", False)
    monkeypatch.setattr(silence, "stderr", lambda line: lines.append((time.monotonic(), line)))
    return lines


@pytest.fixture
def s3_env(monkeypatch) -> None:
    """Test keys, no profile or instance metadata, the default retries."""
    seaweedfs.isolate_aws(monkeypatch, endpoint=None)


@pytest.fixture
def frozen_server(s3_env, monkeypatch) -> Iterator[str]:
    """The endpoint of a port whose connections are accepted (by the kernel) and never answered."""
    with socket.create_server(("127.0.0.1", 0), backlog=16) as listener:
        endpoint = f"http://127.0.0.1:{listener.getsockname()[1]}"
        monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)
        yield endpoint


def _answer(listener: socket.socket) -> None:
    """Answer every request on ``listener`` at once with S3's empty listing, until it is closed."""
    while True:
        try:
            conn, _ = listener.accept()
        except OSError:  # closed
            return
        with conn:
            request = b""
            while b"\r\n\r\n" not in request and (chunk := conn.recv(65536)):
                request += chunk
            head = b"HTTP/1.1 200 OK\r\nContent-Type: application/xml\r\nx-amz-request-id: 1\r\nConnection: close\r\n"
            conn.sendall(head + b"Content-Length: %d\r\n\r\n" % len(LISTING) + LISTING)


@pytest.fixture
def quick_server(s3_env, monkeypatch) -> Iterator[str]:
    """The endpoint of a server that answers every request at once."""
    with socket.create_server(("127.0.0.1", 0), backlog=16) as listener:
        endpoint = f"http://127.0.0.1:{listener.getsockname()[1]}"
        threading.Thread(target=_answer, args=(listener,), daemon=True).start()
        monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)
        yield endpoint


def _timers() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if isinstance(t, threading.Timer)]


@pytest.mark.slow  # waits out two read timeouts of 3 s
def test_a_silent_server_is_said_once_long_before_the_read_timeout(frozen_server, said, monkeypatch):
    """Before: nothing until the first read timeout (61 s for real), then the retry line."""
    monkeypatch.setattr(silence, "SLOW_S", 0.5)  # 10 s for real
    monkeypatch.setattr(quilt_module, "READ_TIMEOUT_S", 3)  # 60 s for real
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "2")  # two silent requests, each past SLOW_S: one line
    quilt_module.quilt()  # its import (seconds) is not the wait measured
    start = time.monotonic()
    with pytest.raises(RegistryUnreachable, match="cannot reach s3://frozen .*Read timeout"):
        registry.list_versions(registry="s3://frozen")
    assert [line for _, line in said] == [
        f"s3://frozen: no answer from {frozen_server} after 0.5 s; waiting up to 3 s, "
        "then retrying once more, waiting as long (Ctrl-C stops)"
    ]  # and not the retry line too: it would say the same again
    assert 0.5 <= said[0][0] - start < 2.5, (said, start)  # long before the first read timeout
    assert _timers() == []


def test_the_line_names_what_is_left_on_the_last_attempt(frozen_server, said, monkeypatch):
    monkeypatch.setattr(silence, "SLOW_S", 0.3)
    monkeypatch.setattr(quilt_module, "READ_TIMEOUT_S", 1)
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    with pytest.raises(RegistryUnreachable):
        registry.list_versions(registry="s3://frozen")
    assert [line for _, line in said] == [
        f"s3://frozen: no answer from {frozen_server} after 0.3 s; waiting up to 1 s, then giving up (Ctrl-C stops)"
    ]


def test_the_default_retries_are_counted_in_the_line(frozen_server, said, monkeypatch):
    monkeypatch.setattr(silence, "SLOW_S", 0.2)
    monkeypatch.setattr(quilt_module, "READ_TIMEOUT_S", 0.5)
    with pytest.raises(RegistryUnreachable):
        registry.list_versions(registry="s3://frozen")
    assert [line for _, line in said] == [
        f"s3://frozen: no answer from {frozen_server} after 0.2 s; waiting up to 0.5 s, "
        "then retrying up to 3 more times, each waiting as long (Ctrl-C stops)"
    ]


def test_an_answer_in_time_says_nothing_and_leaves_no_timer(quick_server, said, monkeypatch):
    monkeypatch.setattr(silence, "SLOW_S", 0.5)
    client = quilt_module.s3_client()
    for _ in range(3):
        assert client.list_objects_v2(Bucket="quick")["KeyCount"] == 0
    assert _timers() == []  # each cancelled and joined as its answer came
    time.sleep(1)  # past SLOW_S: a timer left running would speak now
    assert said == []


def test_ctrl_c_during_a_request_leaves_no_timer_to_speak_later(quick_server, said, monkeypatch):
    """Ctrl-C in a notebook emits no botocore event after the send: the timer must go all the same."""
    monkeypatch.setattr(silence, "SLOW_S", 0.3)
    client = quilt_module.s3_client()

    def interrupted(request):
        assert len(_timers()) == 1  # the request is watched
        raise KeyboardInterrupt

    monkeypatch.setattr(client._endpoint.http_session, "send", interrupted)
    with pytest.raises(KeyboardInterrupt):
        client.list_objects_v2(Bucket="quick")
    assert _timers() == []
    time.sleep(0.6)
    assert said == []


def test_an_upload_larger_than_quiet_body_is_not_called_silent(frozen_server, said, monkeypatch):
    """A part sent on a slow link takes its time before any answer can come: "no answer after 10 s" would
    be untrue there. Only the retry line speaks, once the read timeout has passed."""
    monkeypatch.setattr(silence, "SLOW_S", 0.2)
    monkeypatch.setattr(silence, "QUIET_BODY", 1000)
    monkeypatch.setattr(quilt_module, "READ_TIMEOUT_S", 0.5)
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "2")
    client = quilt_module.s3_client()
    with pytest.raises(Exception, match="Read timeout"):
        client.put_object(Bucket="frozen", Key="big", Body=b"x" * 2000)
    assert [line for _, line in said] == [
        f"s3://frozen: no answer from {frozen_server} within 0.5 s; retrying, once more (Ctrl-C stops)"
    ]


def test_an_upload_sent_in_signed_chunks_is_sized_by_its_decoded_length(frozen_server, said, monkeypatch):
    """Over HTTPS botocore sends an upload's body in signed chunks: no Content-Length, its size in
    X-Amz-Decoded-Content-Length (found by review h80). Before, such a part was called silent after 10 s."""
    monkeypatch.setattr(silence, "SLOW_S", 0.2)
    monkeypatch.setattr(silence, "QUIET_BODY", 1000)
    monkeypatch.setattr(quilt_module, "READ_TIMEOUT_S", 0.5)
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    client = quilt_module.s3_client()

    def as_over_https(request, **_):
        request.headers["X-Amz-Decoded-Content-Length"] = request.headers.pop("Content-Length")

    client.meta.events.register("before-send.s3.PutObject", as_over_https)
    with pytest.raises(Exception, match="Read timeout"):
        client.put_object(Bucket="frozen", Key="big", Body=b"x" * 2000)
    assert said == []
