"""Paths in messages are shortened to ``./x`` and ``~/x`` only when that is true: a home or working
folder that is the file system's root (``HOME=/``, or an empty ``HOME``, which Python reads as ``/``)
shortens nothing, or every path would be shown as ``~/...``."""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_support import cli, one_line

from fashion_lib.settings import display_path


@pytest.mark.parametrize("home", ["", "/"], ids=["empty HOME", "HOME=/"])
def test_a_root_home_shortens_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, home: str) -> None:
    monkeypatch.setenv("HOME", home)
    monkeypatch.chdir(tmp_path)
    assert display_path("/var/tmp/x") == "/var/tmp/x"
    assert display_path(tmp_path / "y") == "./y"


def test_home_and_working_folder_still_shorten(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "me"))
    monkeypatch.chdir(tmp_path)
    assert display_path(tmp_path / "me" / "reg") == "./me/reg"  # the working folder is asked first
    monkeypatch.chdir("/")
    assert display_path(tmp_path / "me" / "reg") == "~/reg"
    assert display_path("/var/tmp/x") == "/var/tmp/x"  # a working folder at the root shortens nothing


def test_the_cli_names_a_registry_by_its_real_path_with_an_empty_home(tmp_path: Path) -> None:
    reg = tmp_path / "reg"
    reg.write_text("not a folder")
    done = cli("packages", "list", "--registry", str(reg), HOME="", FASHION_HOME=str(tmp_path / "home"))
    assert done.returncode != 0
    assert f"local registry {reg} is a file, not a folder" in one_line(done)
