"""Running the ``fashion`` command as a user would, for the CLI error tests."""

from __future__ import annotations

import os
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
