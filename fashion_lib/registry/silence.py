"""Saying so when an S3 server is silent: a frozen server otherwise means minutes of a still terminal
(every attempt waits out the read timeout, 60 s, and botocore makes several).

Two lines, and at most one of them once per process: after :data:`SLOW_S` seconds without an answer to a
request (what waits, for how long, and what comes next), or, where that was not said, when a request
that got no answer is retried.
"""

from __future__ import annotations

import threading
from typing import Any

from ..console import stderr

SLOW_S = 10.0  # seconds without an answer to a request before saying so
QUIET_BODY = 1 << 20  # a request sending more bytes than this may take SLOW_S on a slow link: not watched

_told = False  # one line about a silent server per process
_told_lock = threading.Lock()


def _say_once(line: str) -> None:
    """Print ``line`` on stderr, unless a line about a silent server was printed before."""
    global _told
    with _told_lock:
        if _told:
            return
        _told = True
    stderr(line)


def watch_silence(client: Any) -> None:
    """Have ``client`` say so, once per process, when a server keeps it waiting or a request is retried."""
    _say_when_slow(client)
    _say_when_retrying(client)


def _total_attempts(client: Any) -> int:
    """The attempts the client makes in all (0 if its configuration does not say)."""
    return int((client.meta.config.retries or {}).get("total_max_attempts") or 0)


def _where(context: dict) -> str:
    """``s3://BUCKET: `` where the request names its bucket, else nothing."""
    bucket = (context or {}).get("input_params", {}).get("Bucket")
    return f"s3://{bucket}: " if bucket else ""


def _more(left: int) -> str:
    return "once more" if left == 1 else f"up to {left} more times"


def _slow_line(client: Any, request: Any, waited: float) -> str:
    """The line for a request unanswered after ``waited`` seconds: who, how long, and what comes next."""
    context = getattr(request, "context", None) or {}
    attempt = int(context.get("retries", {}).get("attempt") or 1)
    total, read = _total_attempts(client), client.meta.config.read_timeout
    left = total - attempt
    each = "each " if left > 1 else ""
    after = f"then retrying {_more(left)}, {each}waiting as long" if left > 0 else "then giving up"
    return (
        f"{_where(context)}no answer from {client.meta.endpoint_url} after {waited:g} s; "
        f"waiting up to {read:g} s, {after} (Ctrl-C stops)"
    )


def _body_size(headers: Any) -> int:
    """The bytes a request sends: ``Content-Length``, or, for a body botocore sends in signed chunks
    (uploads over HTTPS, which carry no ``Content-Length``), ``X-Amz-Decoded-Content-Length``."""
    size = headers.get("Content-Length") or headers.get("X-Amz-Decoded-Content-Length") or 0
    return int(size)


def _say_when_slow(client: Any) -> None:
    """Watch every request ``client`` sends: a timer, cancelled and joined however the send ends (an answer,
    an error, Ctrl-C), prints :func:`_slow_line` if no answer came within :data:`SLOW_S` seconds.

    The timer wraps the endpoint's send rather than hanging on botocore's events: ``before-send`` and
    ``response-received`` bracket a send, but an interrupted one (Ctrl-C in a notebook) emits nothing
    after it, and would leave the timer to speak later. A send that a ``before-send`` handler answers is
    never made, so never watched; nor is one sending more than :data:`QUIET_BODY` bytes (an upload's part
    on a slow link takes its time before any answer can come)."""
    endpoint = client._endpoint
    send = endpoint._send

    def watched(request: Any) -> Any:
        if _body_size(request.headers) > QUIET_BODY:
            return send(request)
        timer = threading.Timer(SLOW_S, lambda: _say_once(_slow_line(client, request, SLOW_S)))
        timer.daemon = True  # a process that ends mid-request does not wait for it
        try:
            timer.start()  # inside: Ctrl-C right after it still cancels it
            return send(request)
        finally:
            timer.cancel()
            if timer.ident is not None:  # started (Ctrl-C may come before)
                timer.join()

    endpoint._send = watched


def _say_when_retrying(client: Any) -> None:
    """One line the first time a request that got no answer is retried (unless the slow line said it)."""
    import botocore.exceptions as bx

    config = client.meta.config
    total = _total_attempts(client)

    def on_retry(attempts: int, caught_exception: BaseException | None, request_dict: dict, **_: Any) -> None:
        if isinstance(caught_exception, bx.ReadTimeoutError):
            silence = f"no answer from {client.meta.endpoint_url} within {config.read_timeout:g} s"
        elif isinstance(caught_exception, bx.ConnectTimeoutError):
            silence = f"no connection to {client.meta.endpoint_url} within {config.connect_timeout:g} s"
        else:
            return
        if attempts < total:
            where = _where(request_dict.get("context", {}))
            _say_once(f"{where}{silence}; retrying, {_more(total - attempts)} (Ctrl-C stops)")

    client.meta.events.register("needs-retry.s3", on_retry, unique_id="fashion-says-when-retrying")
