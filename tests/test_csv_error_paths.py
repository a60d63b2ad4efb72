"""A CSV error names the file as the reader can find it (``./a/x.csv``, ``~/x.csv``, else the path), not only
its name: two files called ``x.csv`` in different folders are told apart, in ``data validate``, ``data push``
and ``predict`` alike."""

from __future__ import annotations

from pathlib import Path

import pytest
from csv_support import random_csv

from fashion_lib.cli import main
from fashion_lib.errors import DataValidationError
from fashion_lib.validate import validate_csv

PIXEL_256 = "line 2, column pixel5: 256 is out of range; expected an integer 0..255"
EMPTY_LINE = "line 3: empty line; expected a data row (blank lines are allowed only at the end)"


def _break(path: Path, defect: str) -> None:
    """Line 2's pixel5 set to 256 (the range check), or an empty line 3 (the parser's own line)."""
    lines = path.read_text().splitlines()
    if defect == PIXEL_256:
        fields = lines[1].split(",")
        fields[5] = "256"
        lines[1] = ",".join(fields)
    else:
        lines.insert(2, "")
    path.write_text("\n".join(lines) + "\n")


@pytest.fixture
def twins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """``a/x.csv`` and ``b/x.csv``, both valid, in the working folder ``tmp_path``."""
    monkeypatch.chdir(tmp_path)
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        random_csv(tmp_path / folder / "x.csv", 20, seed=3)
    return tmp_path


def _err(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, list[str]]:
    code = main(argv)
    return code, capsys.readouterr().err.splitlines()


@pytest.mark.parametrize("defect", [PIXEL_256, EMPTY_LINE], ids=["out of range", "empty line"])
@pytest.mark.parametrize("bad", ["a", "b"])
def test_two_files_of_one_name_are_told_apart(twins: Path, capsys, bad: str, defect: str) -> None:
    _break(twins / bad / "x.csv", defect)
    line = f"fashion: error: ./{bad}/x.csv: {defect}"
    assert _err(["data", "validate", "a/x.csv", "b/x.csv"], capsys) == (1, [line])
    push = ["data", "push", "--train", "a/x.csv", "--test", "b/x.csv", "--registry", str(twins / "reg")]
    assert _err(push, capsys) == (1, [line])
    assert _err(["predict", "a/x.csv", "b/x.csv", "--model", "none.keras"], capsys) == (2, [line])


def test_a_file_in_home_is_named_from_home_else_by_its_path(tmp_path: Path, monkeypatch) -> None:
    home, elsewhere = tmp_path / "home", tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(elsewhere)
    for path, shown in ((home / "d" / "x.csv", "~/d/x.csv"), (tmp_path / "x.csv", str(tmp_path / "x.csv"))):
        path.parent.mkdir(parents=True, exist_ok=True)
        _break(random_csv(path, 20, seed=4), PIXEL_256)
        with pytest.raises(DataValidationError) as caught:
            validate_csv(path)
        assert str(caught.value) == f"{shown}: {PIXEL_256}"
