"""Getting the raw files: a user folder, the Debian copy, and real downloads from a local HTTP mirror."""

from __future__ import annotations

import functools
import gzip
import hashlib
import http.server
import shutil
import socket
import struct
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from fashion_lib import console, idx, mirrors, sources
from fashion_lib.errors import IdxFormatError, SourceError
from fashion_lib.settings import DEBIAN_DATASET_DIR

needs_debian = pytest.mark.skipif(
    sources.find_in(DEBIAN_DATASET_DIR) is None, reason="Debian package dataset-fashion-mnist is not installed"
)


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def mirror(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A real HTTP server on 127.0.0.1 serving a folder; yields (base URL, folder)."""
    root = tmp_path / "mirror"
    root.mkdir()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/", root
    server.shutdown()
    server.server_close()


@pytest.fixture
def isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No user folder, no Debian copy, no apt: only downloads can provide the files."""
    monkeypatch.delenv("FASHION_RAW_DIR", raising=False)
    monkeypatch.setenv("FASHION_NO_APT", "1")
    monkeypatch.setattr(sources.settings, "DEBIAN_DATASET_DIR", tmp_path / "no-debian")
    return tmp_path / "cache"


@needs_debian
def test_debian_copy_is_found_and_verified(isolated: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sources.settings, "DEBIAN_DATASET_DIR", DEBIAN_DATASET_DIR)
    raw = sources.get_raw_files(cache_dir=isolated)
    assert raw.origin.startswith("Debian package")
    assert set(raw.paths) == set(sources.RAW_FILES)


@needs_debian
def test_download_from_mirror(mirror: tuple[str, Path], isolated: Path) -> None:
    url, root = mirror
    for path in sources.find_in(DEBIAN_DATASET_DIR).values():
        shutil.copy(path, root / path.name)
    raw = sources.get_raw_files(cache_dir=isolated, mirrors=(url,), progress=False, log=lambda m: None)
    assert raw.origin.startswith("download")
    assert sorted(p.name for p in isolated.iterdir()) == sorted(f"{n}.gz" for n in sources.RAW_FILES)
    again = sources.get_raw_files(cache_dir=isolated, mirrors=("http://127.0.0.1:9/",), log=lambda m: None)
    assert again.origin.startswith("local copy")  # second run needs no network


@needs_debian
@pytest.mark.parametrize("damage", ["corrupt", "truncate"])
def test_bad_download_is_rejected_and_leaves_nothing(mirror: tuple[str, Path], isolated: Path, damage: str) -> None:
    url, root = mirror
    for path in sources.find_in(DEBIAN_DATASET_DIR).values():
        shutil.copy(path, root / path.name)
    victim = root / "t10k-labels-idx1-ubyte.gz"
    content = bytearray(gzip.decompress(victim.read_bytes()))
    if damage == "corrupt":
        content[100] ^= 0xFF
        victim.write_bytes(gzip.compress(bytes(content)))
    else:
        victim.write_bytes(victim.read_bytes()[:-200])
    with pytest.raises(SourceError, match="t10k-labels-idx1-ubyte") as info:
        sources.get_raw_files(cache_dir=isolated, mirrors=(url,), progress=False, log=lambda m: None)
    assert "FASHION_RAW_DIR" in str(info.value)
    leftovers = [p.name for p in isolated.iterdir()] if isolated.exists() else []
    assert "t10k-labels-idx1-ubyte.gz" not in leftovers
    assert not [n for n in leftovers if n.endswith(".part")]


def test_unreachable_mirror_fails_fast_with_clear_error(isolated: Path) -> None:
    with pytest.raises(SourceError, match=r"could not download train-images-idx3-ubyte\.gz: http://127\.0\.0\.1:9/"):
        sources.get_raw_files(cache_dir=isolated, mirrors=("http://127.0.0.1:9/",), log=lambda m: None)


def test_user_folder_must_hold_all_files(tmp_path: Path) -> None:
    (tmp_path / "train-images-idx3-ubyte.gz").write_bytes(b"")
    with pytest.raises(SourceError, match=r"missing train-labels-idx1-ubyte, t10k-images-idx3-ubyte"):
        sources.get_raw_files(tmp_path)


def test_raw_dir_naming_a_file_says_so_naming_the_variable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """FASHION_RAW_DIR set to a file (the IDX file itself, say) is one line naming the variable and the
    path; before, it said the folder was 'missing train-images-idx3-ubyte, ...'."""
    idx_file = tmp_path / "train-images-idx3-ubyte.gz"
    idx_file.write_bytes(b"")
    expected = "expected a folder with the four upstream Fashion-MNIST IDX files"
    (tmp_path / "gone").symlink_to(tmp_path / "nowhere")
    for path, why in (
        (idx_file, "is a file, not a folder"),
        (tmp_path / "nowhere", "does not exist"),
        (tmp_path / "gone", "is a broken symbolic link"),
    ):
        monkeypatch.setenv("FASHION_RAW_DIR", str(path))
        with pytest.raises(SourceError) as info:
            sources.get_raw_files(allow_apt=False, log=lambda m: None)
        assert str(info.value) == f"FASHION_RAW_DIR={str(path)!r} {why}; {expected}"
    with pytest.raises(SourceError) as info:  # the folder given as an argument (--source) is named as it is
        sources.get_raw_files(idx_file, allow_apt=False)
    assert str(info.value) == f"{idx_file} is a file, not a folder; {expected}"


def test_user_folder_with_wrong_bytes_is_rejected(tmp_path: Path) -> None:
    for name in sources.RAW_FILES:
        (tmp_path / name).write_bytes(b"not fashion")
    with pytest.raises(SourceError, match="SHA-256 of its content"):
        sources.get_raw_files(tmp_path)


def _idx_images(n: int, rows: int = 28, cols: int = 28, magic: int = idx.IMAGES_MAGIC) -> bytes:
    header = b"".join(x.to_bytes(4, "big") for x in (magic, n, rows, cols))
    return header + bytes(n * rows * cols)


def test_idx_parsing_checks_magic_shape_and_size(tmp_path: Path) -> None:
    assert idx.parse_images(_idx_images(3)).shape == (3, 28, 28)
    with pytest.raises(IdxFormatError, match="magic number 0x00000801, expected 0x00000803"):
        idx.parse_images(_idx_images(3, magic=idx.LABELS_MAGIC))
    with pytest.raises(IdxFormatError, match="images are 32x32, expected 28x28"):
        idx.parse_images(_idx_images(3, 32, 32))
    with pytest.raises(IdxFormatError, match="bytes for 3 images"):
        idx.parse_images(_idx_images(3)[:-1])
    labels = idx.LABELS_MAGIC.to_bytes(4, "big") + (2).to_bytes(4, "big") + bytes([1, 12])
    with pytest.raises(IdxFormatError, match="label 12 found, expected 0..9"):
        idx.parse_labels(labels)
    gz = tmp_path / "x.gz"
    gz.write_bytes(gzip.compress(_idx_images(2)))
    assert idx.load_images(gz).shape == (2, 28, 28)


def test_a_damaged_deflate_stream_is_one_line_naming_the_file(tmp_path: Path) -> None:
    """Before, gzip's zlib.error escaped read_bytes: an internal error (exit 70)."""
    damaged = bytearray(gzip.compress(bytes(range(256)) * 100))
    damaged[30] ^= 0xFF
    damaged[40] ^= 0xFF
    (tmp_path / "x.gz").write_bytes(bytes(damaged))
    with pytest.raises(IdxFormatError, match=r"x\.gz: cannot read \(Error -3 while decompressing data"):
        idx.read_bytes(tmp_path / "x.gz")


@needs_debian
def test_real_files_parse(isolated: Path) -> None:
    found = sources.find_in(DEBIAN_DATASET_DIR)
    images = idx.load_images(found["t10k-images-idx3-ubyte"])
    labels = idx.load_labels(found["t10k-labels-idx1-ubyte"])
    assert images.shape == (10000, 28, 28) and images.dtype == np.uint8
    assert np.bincount(labels).tolist() == [1000] * 10


# --- downloads that go wrong: one line naming the URL and what happened; the next mirror is tried ---

NAME = "t10k-labels-idx1-ubyte"
CONTENT = gzip.compress(idx.LABELS_MAGIC.to_bytes(4, "big") + (3).to_bytes(4, "big") + bytes([1, 2, 3]))


class _Answers(http.server.BaseHTTPRequestHandler):
    """Answers GET /<mirror>/<file> as the mirror's name says: ``good``, ``stall``, ``reset``, ``page``, ``short``."""

    release: threading.Event

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        how = self.path.strip("/").split("/")[0]
        body = b"<!DOCTYPE html><html><body>Welcome</body></html>" if how == "page" else CONTENT
        self.send_response(200)
        self.send_header("Content-Type", "text/html" if how == "page" else "application/gzip")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if how in ("good", "page"):
            self.wfile.write(body)
            return
        self.wfile.write(body[:10])
        self.wfile.flush()
        if how == "stall":
            self.release.wait(10)
        elif how == "reset":  # close with a TCP reset
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()  # now: socketserver would send a FIN first
        self.close_connection = True


@pytest.fixture
def answers(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A loopback server answering as :class:`_Answers`; the download timeout cut to 1 s."""
    monkeypatch.setattr(mirrors, "DOWNLOAD_TIMEOUT_S", 1)
    monkeypatch.setitem(sources.RAW_FILES, NAME, hashlib.sha256(gzip.decompress(CONTENT)).hexdigest())
    release = threading.Event()
    handler = type("Handler", (_Answers,), {"release": release})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.block_on_close = False
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    release.set()
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize(
    "how, why",
    [
        ("stall", "timed out after 1 s"),
        ("reset", "connection reset"),
        ("page", "the server sent a web page, not the file"),
        ("short", f"the download ended after 10 of {len(CONTENT)} bytes"),
    ],
)
def test_a_failed_download_says_what_happened_naming_the_url(answers: str, tmp_path: Path, how: str, why: str) -> None:
    """Before: '[Errno None] None: <cache file> -> None' (a stall), '[Errno 104] ...: <cache file>'
    (a reset), a deleted '.part' file's SHA-256 (a web page or a body cut short)."""
    with pytest.raises(SourceError) as info:
        sources.download(NAME, tmp_path, (f"{answers}{how}/",), progress=False)
    assert str(info.value) == f"could not download {NAME}.gz: {answers}{how}/{NAME}.gz: {why}"
    assert list(tmp_path.iterdir()) == []


def test_the_next_mirror_is_tried_after_a_failed_one(answers: str, tmp_path: Path) -> None:
    got = sources.download(NAME, tmp_path, (f"{answers}reset/", f"{answers}good/"), progress=False)
    assert got.read_bytes() == CONTENT and list(tmp_path.iterdir()) == [got]


def test_a_network_error_through_atomic_path_keeps_its_own_words(tmp_path: Path) -> None:
    """atomic_path named its file in every OSError without one: a reset read as a local file's error."""
    from fashion_lib.fsutil import atomic_path

    for exc in (ConnectionResetError(104, "Connection reset by peer"), TimeoutError("timed out")):
        with pytest.raises(OSError) as caught, atomic_path(tmp_path / "file.gz"):
            raise exc
        assert caught.value.filename is None, caught.value
    with pytest.raises(OSError) as caught, atomic_path(tmp_path / "file.gz"):
        raise OSError(28, "No space left on device")  # a failed write() is still the file's
    assert caught.value.filename == str(tmp_path / "file.gz")


@pytest.mark.parametrize("variable", ["QUILT_MINIMIZE_STDOUT", "CI"])
def test_no_progress_bar_where_the_readme_turns_them_off(
    answers: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str], variable: str
) -> None:
    """Before, the download's bar was drawn with QUILT_MINIMIZE_STDOUT=true and on CI."""
    monkeypatch.delenv("QUILT_MINIMIZE_STDOUT", raising=False)
    monkeypatch.delenv("CI", raising=False)
    assert console.progress_bars()
    sources.download(NAME, tmp_path / "drawn", (f"{answers}good/",))
    assert f"{NAME}.gz" in capfd.readouterr().err
    monkeypatch.setenv(variable, "true")
    assert not console.progress_bars()
    sources.download(NAME, tmp_path / "quiet", (f"{answers}good/",))
    assert capfd.readouterr().err == ""
    monkeypatch.setenv("QUILT_MINIMIZE_STDOUT", "false")  # as quilt3 reads it: asked for on CI too
    assert console.progress_bars()


def test_raw_dir_in_a_loop_of_symbolic_links_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Before: 'is a broken symbolic link'."""
    (tmp_path / "a").symlink_to(tmp_path / "b")
    (tmp_path / "b").symlink_to(tmp_path / "a")
    monkeypatch.setenv("FASHION_RAW_DIR", str(tmp_path / "a"))
    with pytest.raises(SourceError) as info:
        sources.get_raw_files(allow_apt=False, log=lambda m: None)
    assert str(info.value).startswith(f"FASHION_RAW_DIR={str(tmp_path / 'a')!r} goes through a loop of symbolic links;")


def test_a_failed_first_download_leaves_no_empty_folder(tmp_path: Path, isolated: Path) -> None:
    cache = tmp_path / "home" / "data" / "raw"
    with pytest.raises(SourceError):
        sources.get_raw_files(cache_dir=cache, mirrors=("http://127.0.0.1:9/",), allow_apt=False, log=lambda m: None)
    assert not (tmp_path / "home").exists()


@pytest.mark.parametrize(
    ("value", "runs_apt"), [("1", False), ("yes", False), ("0", True), ("false", True), ("", True)]
)
def test_fashion_no_apt_is_an_on_off_switch(monkeypatch: pytest.MonkeyPatch, value: str, runs_apt: bool) -> None:
    """Before: any value turned apt-get off, FASHION_NO_APT=0 too (FASHION_DEBUG=0 means off)."""
    import subprocess
    import types

    ran: list[list[str]] = []
    monkeypatch.setenv("FASHION_NO_APT", value)
    monkeypatch.setattr(sources.shutil, "which", lambda name: f"/usr/bin/{name}")
    monkeypatch.setattr(sources.os, "geteuid", lambda: 0)
    monkeypatch.setattr(
        subprocess, "run", lambda command, **kw: ran.append(command) or types.SimpleNamespace(returncode=0)
    )
    assert sources._install_debian_package(log=lambda line: None) is runs_apt
    assert bool(ran) is runs_apt
