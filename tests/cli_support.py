"""Running the ``fashion`` command as a user would, for the CLI error tests."""

from __future__ import annotations

import os
import socket
import subprocess
import sys


def cli(*args: str, **env: str) -> subprocess.CompletedProcess:
    """``python -m fashion_lib ARGS`` in a fresh process; never a traceback."""
    done = subprocess.run(
        [sys.executable, "-m", "fashion_lib", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=dict(os.environ, **env),
    )
    assert "Traceback" not in done.stderr, done.stderr
    return done


def one_line(done: subprocess.CompletedProcess) -> str:
    """The error line of a failed command (progress lines aside); asserts there is exactly one."""
    lines = [line for line in done.stderr.splitlines() if not line.startswith(("Raw files:", "checking "))]
    assert len(lines) == 1, done.stderr
    return lines[0]


def closed_s3_env(home: os.PathLike[str] | str) -> dict[str, str]:
    """Settings for ``s3://bucket`` on a loopback port nobody listens on (connections refused), one attempt."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return {
        "FASHION_HOME": str(home),
        "AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}",
        "AWS_ACCESS_KEY_ID": "x",
        "AWS_SECRET_ACCESS_KEY": "x",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_MAX_ATTEMPTS": "1",
    }


def wait_for_file(child: subprocess.Popen, path: os.PathLike[str], never: str, timeout: float = 120) -> None:
    """Wait until the child process writes ``path`` (it says it got there); fails with ``never`` after
    ``timeout`` seconds, or with the child's output if it ended first."""
    import time
    from pathlib import Path

    deadline = time.monotonic() + timeout
    while not Path(path).exists():
        assert child.poll() is None, child.communicate()
        assert time.monotonic() < deadline, never
        time.sleep(0.1)
