"""Download one upstream file from the first of several mirrors that serves it whole and right.

A mirror that fails (no answer, a stalled or reset connection, a web page, a body cut short, bytes
whose decompressed SHA-256 is not the one expected) is said in words with its URL, and the next one
is tried; the file is written under a temporary name and renamed only once it is checked. A progress
bar is drawn where :func:`fashion_lib.console.progress_bars` says so.
"""

from __future__ import annotations

import gzip
import hashlib
import http.client
import socket
import sys
import urllib.error
import urllib.request
import zlib
from pathlib import Path

from .console import progress_bars, short
from .errors import SourceError
from .fsutil import atomic_path
from .idx import decompressed

DOWNLOAD_TIMEOUT_S = 30


class _Failed(Exception):
    """What went wrong with one URL, in words (a network or server problem; never a local file's)."""


def download(name: str, folder: Path, mirrors: tuple[str, ...], expected: str, *, progress: bool = True) -> Path:
    """Download ``name.gz`` from the first mirror that serves the right bytes. A mirror that fails (no
    answer, a stalled or reset connection, a web page, a body cut short, wrong bytes) is said, with its
    URL, and the next one is tried; a cache file that cannot be written is an OSError naming it."""
    target = folder / f"{name}.gz"
    problems = []
    for mirror in mirrors:
        url = f"{mirror}{name}.gz"
        try:
            with atomic_path(target) as tmp:
                _fetch(url, tmp, name, progress=progress and progress_bars())
                _check_download(tmp, name, expected)
            return target
        except _Failed as exc:
            problems.append(f"{url}: {exc}")
    raise SourceError(f"could not download {name}.gz: " + "; ".join(problems))


def _fetch(url: str, tmp: Path, name: str, *, progress: bool) -> None:
    """Write the body ``url`` answers with into ``tmp``; :class:`_Failed` if the server does not give it whole."""
    from tqdm.auto import tqdm

    try:
        response = urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT_S)
    except (OSError, http.client.HTTPException) as exc:
        raise _Failed(_why(exc)) from None
    with response, open(tmp, "wb") as out:
        if "html" in (response.headers.get("Content-Type") or "").lower():
            raise _Failed(_WEB_PAGE)
        total = int(response.headers.get("Content-Length") or 0) or None
        got = 0
        with tqdm(
            total=total, unit="B", unit_scale=True, desc=f"{name}.gz", disable=not progress, file=sys.stderr
        ) as bar:
            while block := _read(response, got):
                if not got and block.lstrip()[:1] == b"<":  # neither gzip nor IDX starts so; HTML does
                    raise _Failed(_WEB_PAGE)
                out.write(block)
                got += len(block)
                bar.update(len(block))
    if total is not None and got < total:
        raise _Failed(f"the download ended after {got} of {total} bytes")


_WEB_PAGE = "the server sent a web page, not the file"


def _read(response: http.client.HTTPResponse, got: int) -> bytes:
    """The next block of the body (empty at its end)."""
    try:
        return response.read(1 << 16)
    except http.client.IncompleteRead:
        raise _Failed(f"the download ended after {got} bytes") from None
    except (OSError, http.client.HTTPException) as exc:
        raise _Failed(_why(exc)) from None


def _why(exc: BaseException) -> str:
    """A failed request in words."""
    if isinstance(exc, urllib.error.HTTPError):
        return f"the server answered HTTP {exc.code} {exc.reason}"
    if isinstance(exc, urllib.error.URLError):
        return _why(exc.reason) if isinstance(exc.reason, BaseException) else str(exc.reason)
    if isinstance(exc, TimeoutError):
        return f"timed out after {DOWNLOAD_TIMEOUT_S} s"
    if isinstance(exc, http.client.RemoteDisconnected):
        return "the server closed the connection without answering"
    if isinstance(exc, ConnectionResetError):
        return "connection reset"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, socket.gaierror):
        return f"host not found ({exc.strerror})"
    if isinstance(exc, http.client.HTTPException):
        return f"the answer is not HTTP ({exc.__class__.__name__})"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror[:1].lower() + exc.strerror[1:]
    return " ".join(str(exc).split()) or exc.__class__.__name__


def _check_download(path: Path, name: str, expected: str) -> None:
    """:class:`_Failed` unless the downloaded ``path`` holds the upstream bytes of ``name``."""
    try:
        found = hashlib.sha256(decompressed(path)).hexdigest()
    except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
        raise _Failed(f"not a whole gzip file ({exc})") from None
    if found != expected:
        raise _Failed(
            f"SHA-256 of its content is {short(found)}..., expected {short(expected)}... "
            f"(the upstream {name}); the file is corrupted or not Fashion-MNIST"
        )
