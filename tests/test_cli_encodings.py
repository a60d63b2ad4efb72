"""An output encoding that can't show a character of a path, name or message: the CLI prints it escaped.

Before, ``PYTHONIOENCODING=ascii fashion packages list --registry .../regü`` ended in exit 70,
"internal error: UnicodeEncodeError", and so did the C locale (without UTF-8 mode) on text read from
a file, and a strict UTF-8 stdout on a path holding a byte that is not UTF-8.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from test_lineage_registry import _publish

from fashion_lib import registry
from fashion_lib.cli import main
from fashion_lib.settings import TEST_CSV, TRAIN_CSV

# The C locale as Python leaves it when told not to coerce it or use UTF-8: ASCII, surrogateescape.
C_LOCALE = {"LC_ALL": "C", "LANG": "C", "PYTHONCOERCECLOCALE": "0", "PYTHONUTF8": "0"}


def fashion(*args: str | bytes, **env: str) -> subprocess.CompletedProcess[bytes]:
    """``python -m fashion_lib ARGS`` with ``env`` (locale and I/O variables replaced); bytes out."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("LC_", "LANG", "PYTHONIOENCODING", "PYTHONUTF8"))}
    done = subprocess.run(
        [sys.executable, "-m", "fashion_lib", *args], capture_output=True, timeout=120, env={**base, **env}
    )
    assert b"Traceback" not in done.stderr, done.stderr
    return done


def _push(folder: Path, reg: str | Path) -> None:
    (folder / "a.csv").write_text("label,pixel1\n1,0\n")
    registry.push("user/p", {TRAIN_CSV: folder / "a.csv", TEST_CSV: folder / "a.csv"}, registry=str(reg))


@pytest.fixture(scope="module")
def umlaut(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A registry whose folder's name has a ``ü``."""
    folder = tmp_path_factory.mktemp("enc")
    _push(folder, folder / "regü")
    return folder / "regü"


@pytest.mark.parametrize("encoding", ["ascii", "ascii:strict"])
def test_an_ascii_stdout_shows_the_registrys_umlaut_escaped(umlaut: Path, encoding: str) -> None:
    done = fashion("packages", "list", "--registry", str(umlaut), PYTHONIOENCODING=encoding)
    assert (done.returncode, done.stderr) == (0, b""), done.stderr
    assert f"local registry {umlaut.parent}/reg\\xfc: 1 version(s)\n".encode() in done.stdout


def test_an_ascii_stderr_shows_the_umlaut_escaped_in_the_error_line(umlaut: Path) -> None:
    done = fashion("packages", "list", "--registry", str(umlaut.parent / "nonü"), PYTHONIOENCODING="ascii")
    assert done.returncode == 4
    assert done.stderr.startswith(f"fashion: error: local registry {umlaut.parent}/non\\xfc: no such folder".encode())
    assert done.stderr.count(b"\n") == 1


def test_a_strict_utf8_stdout_shows_a_byte_that_is_not_utf8_escaped(tmp_path: Path) -> None:
    reg = os.fsencode(tmp_path) + b"/bad\xff"
    _push(tmp_path, os.fsdecode(reg))
    done = fashion("packages", "list", "--registry", reg, PYTHONIOENCODING="utf-8")
    assert (done.returncode, done.stderr) == (0, b""), done.stderr
    assert f"local registry {tmp_path}/bad\\udcff: 1 version(s)\n".encode() in done.stdout


def test_the_c_locale_shows_text_read_from_a_file_escaped(tmp_path: Path) -> None:
    """The lineage recorded on a UTF-8 machine names a folder with an ``ä``: this one's locale is C."""
    _publish(tmp_path / "reg", "/srv/däten/registry", tmp_path)
    done = fashion("lineage", "--registry", str(tmp_path / "reg"), **C_LOCALE)
    assert (done.returncode, done.stderr) == (0, b""), done.stderr
    assert b"as recorded on the publishing machine: /srv/d\\xe4ten/registry (no such folder" in done.stdout


def test_the_c_locale_still_writes_a_paths_own_bytes_back(umlaut: Path) -> None:
    """A path given in bytes the locale can't decode is printed as those bytes, as Python's C locale does."""
    done = fashion("packages", "list", "--registry", str(umlaut), **C_LOCALE)
    assert (done.returncode, done.stderr) == (0, b""), done.stderr
    assert f"local registry {umlaut}: 1 version(s)\n".encode() in done.stdout


def test_main_in_process_gives_the_stream_its_own_error_handler_back(
    umlaut: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    stream = io.TextIOWrapper(io.BytesIO(), encoding="ascii")
    monkeypatch.setattr(sys, "stdout", stream)
    assert main(["packages", "list", "--registry", str(umlaut)]) == 0
    assert stream.errors == "strict"
    stream.flush()
    assert b"/reg\\xfc: 1 version(s)\n" in stream.buffer.getvalue()  # type: ignore[attr-defined]


def test_the_c_locale_takes_a_file_url_whose_percent_escapes_are_utf8(umlaut: Path) -> None:
    """Before: ``file:///.../reg%C3%BC`` was decoded as UTF-8 text whatever the locale; under C (ASCII file
    names) resolving that path raised UnicodeEncodeError, exit 70. The escapes name bytes, and those are
    the folder's name in any locale."""
    base = "file://" + str(umlaut.parent).replace("%", "%25")
    for url in (base + "/reg%C3%BC", base + "/regü"):  # escaped, and typed as it is (review 87: exit 70 then)
        for env in ({}, C_LOCALE):
            done = fashion("packages", "list", "--registry", url, **env)
            assert (done.returncode, done.stderr) == (0, b""), (url, env, done.stderr)
            assert b": 1 version(s)\n" in done.stdout
