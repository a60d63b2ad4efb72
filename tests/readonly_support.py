"""A folder made read-only for real, for the tests of what needs no write access and what is refused
without it: ``chmod``, or as root, where ``chmod`` binds no one, a read-only bind mount."""

from __future__ import annotations

import contextlib
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest


@contextlib.contextmanager
def read_only(folder: Path) -> Iterator[None]:
    """``folder`` and everything in it read-only for the ``with`` block; skips where that can't be done."""
    if os.geteuid() == 0:
        bound = subprocess.run(["mount", "--bind", str(folder), str(folder)], capture_output=True, text=True)
        if bound.returncode:
            pytest.skip(f"running as root, and a read-only bind mount is not possible here ({bound.stderr.strip()})")
        made = subprocess.run(["mount", "-o", "remount,bind,ro", str(folder)], capture_output=True, text=True)
        try:
            if made.returncode:
                pytest.skip(f"cannot remount {folder} read-only ({made.stderr.strip()})")
            yield
        finally:
            subprocess.run(["umount", str(folder)], check=False)
        return
    folders = [folder, *(p for p in folder.rglob("*") if p.is_dir())]
    for path in folders:
        path.chmod(0o555)
    try:
        yield
    finally:
        for path in folders:
            path.chmod(0o755)
