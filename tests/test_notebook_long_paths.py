"""A registry (or output folder) path the file system cannot look up - too long as a whole, a name in it
too long, a loop of symbolic links - is one line naming the notebook parameter, not an OSError's traceback."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from fashion_lib import parameters
from fashion_lib.errors import ConfigError, DestinationError

ROOT = Path(__file__).resolve().parent.parent
LONG = "/tmp/x/" + "y/" * 3000  # every name short, the whole path 6,007 bytes: longer than PATH_MAX (4,096)
SHOWN = f"{LONG[:50]!r}... (a path of 6,007 bytes)"  # the first 50 characters, then the length
TOO_LONG = "is too long for the file system; expected a registry folder or 's3://BUCKET'"


@pytest.fixture(autouse=True)
def no_registry_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FASHION_REGISTRY", raising=False)


def _said(value: object) -> str:
    with pytest.raises(ConfigError) as caught:
        parameters.registry_folder(value)
    return str(caught.value)


def test_a_path_too_long_as_a_whole_is_said_so() -> None:
    assert _said(LONG) == f"registry={SHOWN} {TOO_LONG}"


def test_a_name_too_long_is_said_so(tmp_path: Path) -> None:
    said = _said(str(tmp_path / ("y" * 300) / "registry"))
    assert said.endswith(
        "holds a name of 300 bytes; a file or folder name may have at most 255; expected a registry folder or 's3://BUCKET'"
    )


def test_the_variable_is_named_when_the_parameter_is_left_none(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FASHION_REGISTRY", LONG)
    assert _said(None).startswith("FASHION_REGISTRY='/tmp/x/y/")


def test_a_loop_of_symbolic_links_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "a").symlink_to(tmp_path / "b")
    (tmp_path / "b").symlink_to(tmp_path / "a")
    assert "loop of symbolic links" in _said(str(tmp_path / "a"))


@pytest.mark.parametrize("value", [None, "s3://bucket", "relative/registry", "/nowhere/yet"])
def test_what_can_be_looked_up_is_left_to_the_registry(value: str | None) -> None:
    parameters.registry_folder(value)


def test_an_overlong_output_dir_is_shown_short() -> None:
    with pytest.raises(DestinationError) as caught:
        parameters.output_folder(LONG)
    assert str(caught.value) == (f"output_dir={SHOWN} is too long for the file system")


def test_train_notebook_with_an_overlong_registry_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import papermill

    home = tmp_path / "home"
    monkeypatch.setenv("FASHION_HOME", str(home))
    out = tmp_path / "out.ipynb"
    with pytest.raises(papermill.PapermillExecutionError):
        papermill.execute_notebook(
            str(ROOT / "train.ipynb"), str(out), parameters={"preset": "quick", "registry": LONG},
            kernel_name="fashion-mnist", cwd=str(tmp_path), progress_bar=False,
        )  # fmt: skip
    nb = nbformat.read(out, as_version=4)
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []) if o.output_type == "error"]
    assert [(e.ename, len(e.traceback)) for e in errors] == [("ConfigError", 1)]
    assert errors[0].traceback[0].endswith(f"(a path of 6,007 bytes) {TOO_LONG}")
    assert not home.exists()
