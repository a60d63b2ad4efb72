"""One line, the right culprit and the README's exit code, for every failure the issue found."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import pytest
from cli_support import cli, one_line  # tests/ is on sys.path

from fashion_lib import registry
from fashion_lib.cli import INTERNAL_ERROR, main

NAME = "fashion-mnist/model"


@pytest.fixture
def no_lineage(tmp_path: Path) -> str:
    reg = str(tmp_path / "registry")
    (tmp_path / "clf.keras").write_bytes(b"not really a model")
    registry.push(NAME, {"clf.keras": tmp_path / "clf.keras"}, registry=reg, meta={"data": "mangled"})
    return reg


@pytest.mark.parametrize("command", [["lineage"], ["reproduce", "0"]])
def test_lineage_and_reproduce_without_lineage_metadata(no_lineage, command):
    top_hash = registry.resolve_top_hash(NAME, None, registry=no_lineage)
    args = [command[0], top_hash[:12]] if command[0] == "reproduce" else command
    done = cli(*args, "--registry", no_lineage)
    assert done.returncode == 2 and "has no usable lineage (data is not a dict)" in one_line(done)


def test_home_folder_that_cannot_be_written_is_named(tmp_path):
    (tmp_path / "file").write_text("a file where a folder should be")
    home = tmp_path / "file" / "home"
    done = cli("data", "prepare", "--registry", str(tmp_path / "registry"), FASHION_HOME=str(home))
    line = one_line(done)
    assert done.returncode == 2 and "home folder" in line and str(home) in line


def png_header(width: int, height: int) -> bytes:
    """A PNG's signature and IHDR chunk (8-bit greyscale) with no image data: all a header check reads."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    chunk = b"IHDR" + ihdr
    return b"\x89PNG\r\n\x1a\n" + struct.pack(">I", len(ihdr)) + chunk + struct.pack(">I", zlib.crc32(chunk))


def test_huge_and_non_png_images_are_refused_from_their_header(tmp_path):
    (tmp_path / "huge.png").write_bytes(png_header(20000, 20000))
    done = cli("predict", str(tmp_path / "huge.png"), "--model", str(tmp_path / "none.keras"))
    assert done.returncode == 2 and "20000x20000, expected 28x28" in one_line(done)
    (tmp_path / "photo.png").write_bytes(b"\xff\xd8\xff\xe0 a JPEG in disguise")
    done = cli("predict", str(tmp_path / "photo.png"), "--model", str(tmp_path / "none.keras"))
    assert done.returncode == 2 and "not a PNG file" in one_line(done)


def test_unforeseen_errors_are_one_line_exit_70_and_debug_shows_the_trace(monkeypatch, capsys):
    import fashion_lib.cli.packages as cli_module

    def boom(args):
        raise RuntimeError("something nobody\nforesaw")

    monkeypatch.setattr(cli_module, "cmd_packages_list", boom)  # the parser is built inside main()
    monkeypatch.delenv("FASHION_DEBUG", raising=False)
    assert main(["packages", "list"]) == INTERNAL_ERROR
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "RuntimeError: something nobody foresaw" in err and "FASHION_DEBUG=1" in err
    monkeypatch.setenv("FASHION_DEBUG", "1")
    assert main(["packages", "list"]) == INTERNAL_ERROR
    assert "Traceback" in capsys.readouterr().err
