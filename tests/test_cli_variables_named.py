"""A bad value in a FASHION_* variable is one line naming the variable it came from, exit 2, nothing made:
not the registry inside FASHION_HOME, not an unnamed package name."""

from __future__ import annotations

from pathlib import Path

import pytest

from fashion_lib.cli import main

FILE = "{tmp}/afile"


def _run(argv: list[str], tmp_path: Path, monkeypatch, capsys, **variables: str) -> str:
    """``fashion ARGV`` with a scratch home, no data to be found and ``variables`` set; its one error line."""
    (tmp_path / "afile").write_text("a file where a folder should be")
    settings = {
        "FASHION_HOME": str(tmp_path / "home"),
        "FASHION_RAW_DIR": str(tmp_path / "no-raw-files"),
        "FASHION_NO_APT": "1",
        "FASHION_REGISTRY": "",
        "FASHION_OUTPUT_DIR": "",
        "FASHION_DATA_DIR": "",
        "FASHION_DATA_PACKAGE": "",
        "FASHION_MODEL_PACKAGE": "",
    }
    for name, value in {**settings, **variables}.items():
        monkeypatch.setenv(name, value.format(tmp=tmp_path))
    code = main(argv)
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1, err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["afile"]  # nothing made
    return err.strip()


@pytest.mark.parametrize(
    ("argv", "variables", "said"),
    [
        (
            ["data", "prepare"],
            {"FASHION_DATA_PACKAGE": "bad name"},
            "FASHION_DATA_PACKAGE: invalid package name 'bad name'; expected 'owner/name'",
        ),
        (
            ["data", "fetch", "--dest", "{tmp}/d"],
            {"FASHION_DATA_PACKAGE": "x"},
            "FASHION_DATA_PACKAGE: invalid package",
        ),
        (["lineage"], {"FASHION_MODEL_PACKAGE": "x"}, "FASHION_MODEL_PACKAGE: invalid package name 'x'"),
        (["model", "fetch", "--dest", "{tmp}/d"], {"FASHION_MODEL_PACKAGE": "a/b/c"}, "FASHION_MODEL_PACKAGE: invalid"),
        (["evaluate", "--model", "{tmp}/m.keras"], {"FASHION_DATA_PACKAGE": "x y"}, "FASHION_DATA_PACKAGE: invalid"),
        (["packages", "list"], {"FASHION_HOME": FILE}, "FASHION_HOME='{tmp}/afile' is a file, not a folder"),
        (
            ["packages", "list"],
            {"FASHION_HOME": FILE + "/home"},
            "FASHION_HOME='{tmp}/afile/home' cannot be made: {tmp}/afile is a file; expected the home folder",
        ),
        (["packages", "list"], {"FASHION_REGISTRY": FILE}, "FASHION_REGISTRY: local registry {tmp}/afile is a file"),
        (["packages", "list"], {"FASHION_REGISTRY": "ftp://x/y"}, "FASHION_REGISTRY: registry 'ftp://x/y': ftp://"),
        (
            ["data", "prepare"],
            {"FASHION_DATA_DIR": FILE, "FASHION_RAW_DIR": ""},
            "FASHION_DATA_DIR='{tmp}/afile' is a file, not a folder",
        ),
        (
            ["train", "--preset", "quick"],
            {"FASHION_OUTPUT_DIR": FILE + "/out"},
            "FASHION_OUTPUT_DIR='{tmp}/afile/out' cannot be made: {tmp}/afile is a file",
        ),
    ],
    ids=lambda v: " ".join(v) if isinstance(v, list) else None,
)
def test_a_bad_variable_is_named(tmp_path: Path, monkeypatch, capsys, argv: list[str], variables: dict, said: str):
    line = _run([a.format(tmp=tmp_path) for a in argv], tmp_path, monkeypatch, capsys, **variables)
    assert line.startswith("fashion: error: " + said.format(tmp=tmp_path)), line


def test_an_option_given_is_not_blamed_on_the_variable(tmp_path: Path, monkeypatch, capsys):
    line = _run(
        ["packages", "list", "--registry", FILE.format(tmp=tmp_path)],
        tmp_path,
        monkeypatch,
        capsys,
        FASHION_REGISTRY="{tmp}/reg",
    )
    assert "FASHION_REGISTRY:" not in line and "local registry" in line


def test_a_good_home_that_does_not_exist_yet_is_taken(tmp_path: Path, monkeypatch):
    from fashion_lib import settings

    monkeypatch.setenv("FASHION_HOME", str(tmp_path / "new" / "home"))
    assert settings.home() == tmp_path / "new" / "home" and not (tmp_path / "new").exists()
