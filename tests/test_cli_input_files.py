"""Exit codes and option names as the README's table has them: an input CSV that is missing or no regular
file is a mistake about an input file (exit 2, as in predict), not data that failed validation (exit 1);
``data fetch`` (and every data command) takes ``--data-package`` like the other commands, ``--name`` still
works; an unknown option points at the subcommand's own --help."""

from __future__ import annotations

from pathlib import Path

import pytest

from fashion_lib.cli import main

README = Path(__file__).resolve().parent.parent / "README.md"
EXPECTED = "expected a Fashion-MNIST CSV"


@pytest.fixture
def files(tmp_path: Path) -> dict[str, str]:
    (tmp_path / "folder.csv").mkdir()
    (tmp_path / "few.csv").write_text("label,pixel1\n1,2\n")  # a real file that fails validation
    return {name: str(tmp_path / name) for name in ("folder.csv", "few.csv", "missing.csv")}


def _err(argv: list[str], capsys) -> tuple[int, list[str]]:
    try:
        code = main(argv)
    except SystemExit as exited:  # argparse's usage errors
        code = exited.code
    return code, capsys.readouterr().err.splitlines()


@pytest.mark.parametrize(("name", "said"), [("missing.csv", "no such file"), ("folder.csv", "is a directory")])
def test_validate_push_and_check_of_an_unusable_file_exit_2(files, tmp_path, capsys, name, said):
    line = f"fashion: error: {files[name]}: {said}; {EXPECTED}"
    reg = str(tmp_path / "registry")
    for argv in (
        ["data", "validate", files[name]],
        ["data", "push", "--train", files[name], "--test", files["few.csv"], "--registry", reg],
        ["data", "check", "--train", files["few.csv"], "--test", files[name], "--registry", reg],
    ):
        assert _err(argv, capsys) == (2, [line]), argv
    assert not (tmp_path / "registry").exists()  # nothing published


def test_validate_still_exits_1_on_bad_data_and_2_when_a_file_is_also_missing(files, capsys):
    code, lines = _err(["data", "validate", files["few.csv"]], capsys)
    assert code == 1 and len(lines) == 1 and "line 1 (header)" in lines[0]
    code, lines = _err(["data", "validate", files["few.csv"], files["missing.csv"]], capsys)
    assert code == 2 and len(lines) == 2 and "line 1 (header)" in lines[0] and "no such file" in lines[1]


@pytest.mark.parametrize("option", ["--data-package", "--name"])
def test_data_fetch_takes_data_package_and_still_name(tmp_path, capsys, option):
    argv = ["data", "fetch", "--dest", str(tmp_path / "d"), option, "team/data", "--registry", str(tmp_path / "r")]
    code, lines = _err(argv, capsys)
    assert code == 4 and len(lines) == 1 and "package team/data is not in local registry" in lines[0], lines
    code, lines = _err([*argv[:-4], option, "a b"], capsys)
    assert code == 2 and lines[0].startswith(f"fashion data fetch: error: argument {option}: invalid package name")


@pytest.mark.parametrize("command", [["data", "prepare"], ["data", "push"], ["data", "check"]])
def test_every_data_command_takes_data_package(command, capsys):
    code, lines = _err([*command, "--data-package", "a b"], capsys)
    assert code == 2 and "argument --data-package: invalid package name 'a b'" in lines[0], lines


@pytest.mark.parametrize(
    "argv", [["data", "fetch", "--dest", "d", "--bogus"], ["predict", "x.png", "--bogus"], ["packages", "list", "-x"]]
)
def test_unrecognized_arguments_point_at_the_subcommands_help(argv, capsys):
    command = " ".join(a for a in argv[:2] if not a.startswith("-") and a not in ("d", "x.png"))
    code, lines = _err(argv, capsys)
    assert code == 2 and lines == [
        f"fashion {command}: error: unrecognized arguments: {argv[-1]} (see 'fashion {command} --help')"
    ]


def test_the_exit_code_table_has_reproduces_exit_1():
    table = README.read_text(encoding="utf-8").split("| exit | meaning |", 1)[1]
    row = next(line for line in table.splitlines() if line.startswith("| 1 |"))
    assert "reproduce" in row and "NOT reproduced" in row
