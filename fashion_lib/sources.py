"""Get the four upstream Fashion-MNIST IDX files, verified by SHA-256.

Sources, in order: a folder the user names (argument or ``FASHION_RAW_DIR``; no
fallback if it is wrong); a local copy (an earlier download, or Debian's
``dataset-fashion-mnist`` package); a download from the upstream mirrors with a
progress bar; finally, on Debian as root, installing ``dataset-fashion-mnist``.
Checksums are of the *decompressed* bytes: Debian recompresses the ``.gz`` files.
"""

from __future__ import annotations

import errno
import hashlib
import os
import shutil
import subprocess
from pathlib import Path
from typing import NamedTuple

from . import settings
from .console import Log, short
from .console import stderr as _stderr
from .errors import SourceError
from .fsutil import looked_up, new_folder
from .idx import read_bytes

# SHA-256 of the decompressed upstream files.
RAW_FILES: dict[str, str] = {
    "train-images-idx3-ubyte": "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
    "train-labels-idx1-ubyte": "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
    "t10k-images-idx3-ubyte": "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
    "t10k-labels-idx1-ubyte": "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
}
DEBIAN_PACKAGE = "dataset-fashion-mnist"


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


def _verified(found: dict[str, Path]) -> dict[str, Path]:
    for name, path in found.items():
        verify(path, name)
    return found


def download(name: str, folder: Path, mirrors: tuple[str, ...], *, progress: bool = True) -> Path:
    """Download ``name.gz`` from the first mirror that serves the upstream bytes (:func:`.mirrors.download`)."""
    from .mirrors import download as _download

    return _download(name, folder, mirrors, RAW_FILES[name], progress=progress)


def _install_debian_package(log: Log) -> bool:
    """Install Debian's dataset package when we are root on a Debian-like system."""
    if settings.switched_on("FASHION_NO_APT") or not shutil.which("apt-get") or os.geteuid() != 0:
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
