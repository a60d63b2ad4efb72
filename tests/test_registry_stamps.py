"""Version pointers dated in the future (edited by hand, or copied from a machine whose clock runs
ahead): every later push is stamped after them, so a push says so in one line and verify notes them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_support import cli

from fashion_lib import registry
from fashion_lib.settings import display_path

NAME = "fashion-mnist/data"
FUTURE = 1_924_992_000  # 2031-01-01 00:00:00 UTC


@pytest.fixture
def reg(tmp_path: Path, sources: dict[str, Path]) -> Path:
    """A registry holding one version."""
    folder = tmp_path / "registry"
    registry.push(NAME, sources, registry=str(folder), message="first")
    return folder


def pointers(reg: Path) -> Path:
    return reg / ".quilt" / "named_packages" / NAME


def warning(reg: Path, stamp: int, date: str) -> str:
    where = display_path(pointers(reg) / str(stamp))
    return f"warning: {where} is dated {date}, in the future; this version is stamped after it"


def test_a_push_stamped_after_a_future_pointer_says_so_in_one_line(reg, sources, capsys):
    (pointers(reg) / str(FUTURE)).write_text((pointers(reg) / "latest").read_text())  # edited by hand
    capsys.readouterr()
    second = registry.push(NAME, {"test.csv": sources["test.csv"]}, registry=str(reg))
    assert capsys.readouterr().err.splitlines() == [warning(reg, FUTURE, "2031-01-01 00:00:00 UTC")]
    assert (pointers(reg) / str(FUTURE + 1)).read_text() == second
    third = registry.push(NAME, {"train.csv": sources["train.csv"]}, registry=str(reg))  # and every later one
    assert capsys.readouterr().err.splitlines() == [warning(reg, FUTURE + 1, "2031-01-01 00:00:01 UTC")]
    assert (pointers(reg) / str(FUTURE + 2)).read_text() == third


def test_pushes_stamped_by_the_clock_say_nothing(reg, sources, capsys, same_second):
    capsys.readouterr()
    for key in ("train.csv", "test.csv"):  # a burst within one second runs a few stamps ahead: no warning
        registry.push(NAME, {key: sources[key]}, registry=str(reg))
    registry.push(NAME, sources, registry=str(reg), message="again")
    assert len([p for p in pointers(reg).iterdir() if p.name.isdigit()]) == 4
    assert capsys.readouterr().err == ""
    assert registry.verify(registry=str(reg)).future_pointers == []


def test_verify_notes_a_future_pointer_and_still_finds_no_problem(reg):
    future = pointers(reg) / str(FUTURE)
    future.write_text((pointers(reg) / "latest").read_text())
    done = cli("packages", "verify", "--registry", str(reg))
    assert done.returncode == 0, done.stderr
    assert "no problems" in done.stdout
    assert f"note: {display_path(future)} is dated 2031-01-01 00:00:00 UTC, in the future" in done.stdout
    as_json = json.loads(cli("packages", "verify", "--registry", str(reg), "--json").stdout)
    assert as_json["ok"] and as_json["future_pointers"] == [display_path(future)]


def test_a_pointer_dated_past_the_year_9999_is_listed_noted_and_pushed_after(reg, sources, capsys):
    far = pointers(reg) / "99999999999999"
    far.write_text((pointers(reg) / "latest").read_text())
    listed = cli("packages", "list", "--registry", str(reg))
    assert listed.returncode == 0, listed.stderr
    capsys.readouterr()
    registry.push(NAME, {"test.csv": sources["test.csv"]}, registry=str(reg))
    assert capsys.readouterr().err.splitlines() == [
        warning(reg, 99999999999999, "after the year 9999 (second 99999999999999)")
    ]
    summary = registry.verify(registry=str(reg)).summary()
    assert f"note: {display_path(far)} is dated after the year 9999 (second 99999999999999), in the future" in summary
