"""Paths the system cannot even look up, as the values of path options: one line naming the path,
exit 2, before anything is made. And nothing raised while the command line is parsed escapes as a
traceback."""

from __future__ import annotations

import errno
import importlib
from pathlib import Path

import pytest
from cli_support import cli, one_line  # tests/ is on sys.path

from fashion_lib.cli import INTERNAL_ERROR, main

LONG = "x" * 300  # one name over the 255 bytes Linux's and macOS's file systems allow


def _home(tmp_path: Path) -> dict[str, str]:
    return {"FASHION_HOME": str(tmp_path / "home"), "FASHION_REGISTRY": "", "FASHION_OUTPUT_DIR": ""}


@pytest.mark.parametrize(
    "args, option",
    [
        (["data", "fetch", "--dest", f"{{tmp}}/{LONG}"], "--dest"),
        (["model", "fetch", "--dest", f"{{tmp}}/{LONG}/sub"], "--dest"),
        (["train", "--output-dir", f"{{tmp}}/{LONG}"], "--output-dir"),
        (["data", "check", "--json", f"{{tmp}}/{LONG}.json"], "--json"),
    ],
)
def test_a_name_over_255_bytes_is_a_usage_error_naming_the_path(tmp_path, args, option):
    given = [arg.format(tmp=tmp_path) for arg in args]
    done = cli(*given, **_home(tmp_path))
    line = one_line(done)
    longest = max(len(part) for part in Path(given[-1]).parts)  # 300, or 305 with ".json"
    assert done.returncode == 2, done.stderr
    assert (
        f"argument {option}: {given[-1]} holds a name of {longest} bytes; a file or folder name may have at most 255"
        in line
    )
    assert list(tmp_path.iterdir()) == []  # no home, no registry, no output folder


@pytest.mark.parametrize(
    "args, option",
    [
        (["data", "fetch", "--dest", "{tmp}/loop/x"], "--dest"),
        (["model", "fetch", "--dest", "{tmp}/loop"], "--dest"),
        (["data", "check", "--json", "{tmp}/loop/report.json"], "--json"),
    ],
)
def test_a_loop_of_symbolic_links_is_said_so(tmp_path, args, option):
    (tmp_path / "loop").symlink_to("loop")  # before: "File exists", from the fetch's mkdir
    given = [arg.format(tmp=tmp_path) for arg in args]
    done = cli(*given, **_home(tmp_path))
    assert done.returncode == 2, done.stderr
    assert f"argument {option}: {given[-1]} goes through a loop of symbolic links" in one_line(done)
    assert [p.name for p in tmp_path.iterdir()] == ["loop"]


def test_a_path_too_long_in_all_is_said_so(tmp_path):
    deep = "/".join(["y" * 200] * 25)  # every name allowed, the whole over PATH_MAX (4096)
    done = cli("data", "fetch", "--dest", f"{tmp_path}/{deep}", **_home(tmp_path))
    assert done.returncode == 2 and f"{deep} is too long for the file system" in one_line(done)


def _parser_meeting(error: Exception):
    """A ``fashion`` parser with one option whose ``type`` raises ``error``."""
    from fashion_lib.cli.common import _Parser

    def meet(text: str) -> str:
        raise error

    def build():
        parser = _Parser(prog="fashion")
        parser.add_argument("--path", type=meet)
        return parser

    return build


def test_an_os_error_in_any_option_type_is_a_usage_error(monkeypatch, capsys):
    cli_main = importlib.import_module("fashion_lib.cli.main")  # the package's `main` is the function

    too_long = OSError(errno.ENAMETOOLONG, "File name too long", "/tmp/" + LONG)
    monkeypatch.setattr(cli_main, "build_parser", _parser_meeting(too_long))
    with pytest.raises(SystemExit) as stopped:
        main(["--path", "/tmp/" + LONG])
    assert stopped.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "argument --path: /tmp/x" in err and "holds a name of 300 bytes" in err


def test_nothing_raised_while_parsing_escapes_as_a_traceback(monkeypatch, capsys):
    cli_main = importlib.import_module("fashion_lib.cli.main")  # the package's `main` is the function

    monkeypatch.setattr(cli_main, "build_parser", _parser_meeting(RuntimeError("a parser bug")))
    monkeypatch.delenv("FASHION_DEBUG", raising=False)
    assert main(["--path", "p"]) == INTERNAL_ERROR
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "internal error: RuntimeError: a parser bug" in err


@pytest.mark.parametrize("where", [LONG, "loop/x"])
def test_a_notebook_fetch_into_such_a_path_names_it(tmp_path, where):
    from fashion_lib import registry
    from fashion_lib.errors import DestinationError

    (tmp_path / "a.csv").write_text("label,pixel1\n1,0\n")
    reg = str(tmp_path / "registry")
    registry.push("user/p", {"a.csv": tmp_path / "a.csv"}, registry=reg)
    (tmp_path / "loop").symlink_to("loop")
    with pytest.raises(DestinationError, match=f"cannot fetch user/p@.* into {tmp_path}/{where}: the path "):
        registry.fetch("user/p", tmp_path / where, registry=reg)


def test_a_path_too_long_while_a_command_runs_says_which_limit() -> None:
    """An OSError from a command's work: one name over 255 bytes, or a path too long as a whole
    (before, both read "a name in the path is too long")."""
    from fashion_lib.cli.main import _os_error

    whole = "/tmp/" + "y/" * 3000
    assert _os_error(OSError(errno.ENAMETOOLONG, "File name too long", whole)) == (
        f"cannot use {whole}: the path is too long for the file system"
    )
    assert _os_error(OSError(errno.ENAMETOOLONG, "File name too long", "/tmp/" + LONG)).endswith(
        "the path holds a name of 300 bytes; a file or folder name may have at most 255"
    )
