"""Get the four upstream Fashion-MNIST IDX files, verified by SHA-256.

Sources, in order: a folder the user names (argument or ``FASHION_RAW_DIR``; no
fallback if it is wrong); a local copy (an earlier download, or Debian's
``dataset-fashion-mnist`` package); a download from the upstream mirrors with a
progress bar; finally, on Debian as root, installing ``dataset-fashion-mnist``.
Checksums are of the *decompressed* bytes: Debian recompresses the ``.gz`` files.
"""

from __future__ import annotations

import errno
import gzip
import hashlib
import http.client
import os
import shutil
import socket
import subprocess
import sys
import urllib.error
import urllib.request
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import NamedTuple

from . import settings
from .console import Log, short
from .console import stderr as _stderr
from .errors import SourceError
from .fsutil import atomic_path, looked_up
from .idx import decompressed, read_bytes

# SHA-256 of the decompressed upstream files.
RAW_FILES: dict[str, str] = {
    "train-images-idx3-ubyte": "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
    "train-labels-idx1-ubyte": "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
    "t10k-images-idx3-ubyte": "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
    "t10k-labels-idx1-ubyte": "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
}
DEBIAN_PACKAGE = "dataset-fashion-mnist"
DOWNLOAD_TIMEOUT_S = 30


class RawFiles(NamedTuple):
    """The four verified files and where they came from."""

    paths: dict[str, Path]
    origin: str


def sha256_of_content(path: Path) -> str:
    """SHA-256 of a file's decompressed content."""
    return hashlib.sha256(read_bytes(path)).hexdigest()


def verify(path: Path, name: str) -> None:
    """Raise :class:`SourceError` unless ``path`` holds the upstream bytes of ``name``."""
    found = sha256_of_content(path)
    if found != RAW_FILES[name]:
        raise SourceError(
            f"{path}: SHA-256 of its content is {short(found)}..., expected {short(RAW_FILES[name])}... "
            f"(the upstream {name}); the file is corrupted or not Fashion-MNIST"
        )


def _locate(folder: Path, name: str) -> Path | None:
    for candidate in (folder / f"{name}.gz", folder / name):
        if candidate.is_file():
            return candidate
    return None


def find_in(folder: Path) -> dict[str, Path] | None:
    """The four files in ``folder`` (plain or ``.gz``), or None if any is missing."""
    found = {name: _locate(folder, name) for name in RAW_FILES}
    return None if None in found.values() else found  # type: ignore[return-value]


def _in_named_folder(folder: Path, named: str) -> dict[str, Path]:
    """The four files in the folder a person named (``named``: how, the path or the variable), else a
    SourceError naming it; no fallback to another source."""
    expected = "expected a folder with the four upstream Fashion-MNIST IDX files"
    if not folder.is_dir():
        if folder.is_file():
            why = "is a file, not a folder"
        elif folder.exists():
            why = "is not a folder"
        else:
            why = _missing(folder)
        raise SourceError(f"{named} {why}; {expected}")
    found = find_in(folder)
    if found is None:
        missing = [n for n in RAW_FILES if _locate(folder, n) is None]
        raise SourceError(f"{named}: missing {', '.join(missing)} (plain or .gz); {expected}")
    return found


def _missing(folder: Path) -> str:
    """Why a path that is no file or folder is not there, in words that follow it."""
    try:
        os.stat(folder)
    except OSError as exc:
        if exc.errno not in (errno.ENOENT, errno.ENOTDIR):
            return looked_up(exc)  # "goes through a loop of symbolic links"
    return "is a broken symbolic link" if os.path.lexists(folder) else "does not exist"


@contextmanager
def new_folder(folder: Path) -> Iterator[list[Path]]:
    """Make ``folder`` (and the folders above it that are missing). If the block fails (Ctrl-C too) and
    this made the folder, the files put in the yielded list are removed, then the folders made, if empty."""
    made = [p for p in (folder, *folder.parents) if not os.path.lexists(p)]
    folder.mkdir(parents=True, exist_ok=True)
    files: list[Path] = []
    try:
        yield files
    except BaseException:
        for path in files if made else ():
            path.unlink(missing_ok=True)
        for path in made:  # the deepest first
            try:
                path.rmdir()
            except OSError:  # not empty (an earlier download kept), or gone
                break
        raise


def _verified(found: dict[str, Path]) -> dict[str, Path]:
    for name, path in found.items():
        verify(path, name)
    return found


def progress_bars() -> bool:
    """Whether progress bars are drawn: the rule quilt3's own bars follow (``registry.quilt``). Off when
    ``QUILT_MINIMIZE_STDOUT`` is ``true``; when it is not set, off on CI (``CI`` set) and in notebooks."""
    minimize = os.environ.get("QUILT_MINIMIZE_STDOUT")
    if minimize is not None:
        return minimize.lower() != "true"
    return not (os.environ.get("CI") or "ipykernel" in sys.modules)


class _Failed(Exception):
    """What went wrong with one URL, in words (a network or server problem; never a local file's)."""


def download(name: str, folder: Path, mirrors: tuple[str, ...], *, progress: bool = True) -> Path:
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
                _check_download(tmp, name)
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


def _check_download(path: Path, name: str) -> None:
    """:class:`_Failed` unless the downloaded ``path`` holds the upstream bytes of ``name``."""
    try:
        found = hashlib.sha256(decompressed(path)).hexdigest()
    except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
        raise _Failed(f"not a whole gzip file ({exc})") from None
    if found != RAW_FILES[name]:
        raise _Failed(
            f"SHA-256 of its content is {short(found)}..., expected {short(RAW_FILES[name])}... "
            f"(the upstream {name}); the file is corrupted or not Fashion-MNIST"
        )


def _install_debian_package(log: Log) -> bool:
    """Install Debian's dataset package when we are root on a Debian-like system."""
    if os.environ.get("FASHION_NO_APT") or not shutil.which("apt-get") or os.geteuid() != 0:
        return False
    log(f"Installing Debian package {DEBIAN_PACKAGE} (apt-get) to get Fashion-MNIST...")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    command = ["apt-get", "install", "-y", "-q", DEBIAN_PACKAGE]
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        subprocess.run(["apt-get", "update", "-q"], env=env, capture_output=True)
        done = subprocess.run(command, env=env, capture_output=True, text=True)
    return done.returncode == 0


def get_raw_files(
    source_dir: str | os.PathLike[str] | None = None,
    *,
    cache_dir: Path | None = None,
    mirrors: tuple[str, ...] | None = None,
    allow_apt: bool = True,
    progress: bool = True,
    log: Log = _stderr,
) -> RawFiles:
    """Find, download or install the four upstream files and verify each one."""
    chosen = Path(source_dir) if source_dir else settings.raw_dir()
    if chosen is not None:
        named = str(chosen) if source_dir else f"FASHION_RAW_DIR={str(chosen)!r}"
        return RawFiles(_verified(_in_named_folder(chosen, named)), f"folder {chosen}")

    cache = cache_dir or settings.data_dir() / "raw"
    for folder, origin in (
        (cache, f"local copy {cache}"),
        (settings.DEBIAN_DATASET_DIR, f"Debian package {DEBIAN_PACKAGE}"),
    ):
        found = find_in(folder)
        if found is not None:
            return RawFiles(_verified(found), origin)

    urls = mirrors or settings.mirrors()
    try:
        log(f"Downloading Fashion-MNIST from {urls[0]} ...")
        with new_folder(cache):  # a download that fails or is interrupted leaves no empty folder behind
            paths = {name: download(name, cache, urls, progress=progress) for name in RAW_FILES}
        return RawFiles(paths, f"download from {', '.join(urls)}")
    except SourceError as exc:
        failure = exc
    if allow_apt and _install_debian_package(log):
        found = find_in(settings.DEBIAN_DATASET_DIR)
        if found is not None:
            return RawFiles(_verified(found), f"Debian package {DEBIAN_PACKAGE} (just installed)")
    raise SourceError(
        f"{failure}. Set FASHION_RAW_DIR to a folder with the four files, "
        f"or install the Debian package {DEBIAN_PACKAGE}"
    )
