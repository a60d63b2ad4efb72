"""Notebook parameters and config sources checked up front: one line naming the parameter, before
any data is loaded, model trained or file written (the library, the CLI, and papermill)."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

from fashion_lib import parameters, pipeline, run_steps
from fashion_lib.config import TrainConfig
from fashion_lib.errors import ConfigError, DestinationError

ROOT = Path(__file__).resolve().parent.parent
BAD_NAME = "invalid package name 'bad name!'; expected 'owner/name' (ASCII letters, digits, _ and -)"


@pytest.fixture
def no_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A FASHION_HOME of its own where no data can be found or downloaded (a kernel inherits it)."""
    (tmp_path / "raw").mkdir()
    home = tmp_path / "home"
    for name, value in {
        "FASHION_HOME": str(home),
        "FASHION_RAW_DIR": str(tmp_path / "raw"),
        "FASHION_MIRRORS": "http://127.0.0.1:9/",
        "FASHION_NO_APT": "1",
    }.items():
        monkeypatch.setenv(name, value)
    for name in ("FASHION_REGISTRY", "FASHION_OUTPUT_DIR", "FASHION_DATA_PACKAGE", "FASHION_MODEL_PACKAGE"):
        monkeypatch.delenv(name, raising=False)
    return home


def _papermill_error(notebook: str, tmp_path: Path, **given) -> tuple[str, list[str]]:
    """(error name, traceback lines) of the one failed cell when papermill runs ``notebook``."""
    import papermill

    out = tmp_path / "out.ipynb"
    with pytest.raises(papermill.PapermillExecutionError):
        papermill.execute_notebook(
            str(ROOT / notebook), str(out), parameters=given, kernel_name="fashion-mnist", cwd=str(tmp_path),
            progress_bar=False,
        )  # fmt: skip
    nb = nbformat.read(out, as_version=4)
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []) if o.output_type == "error"]
    assert len(errors) == 1, errors
    return errors[0].ename, errors[0].traceback


# --------------------------------------------------------------------------- model package names


def test_a_bad_model_package_is_the_train_notebooks_first_error(no_data: Path, tmp_path: Path) -> None:
    name, traceback = _papermill_error("train.ipynb", tmp_path, model_package="bad name!", preset="quick")
    assert (name, traceback) == ("ConfigError", [f"ConfigError: model_package: {BAD_NAME}"])
    assert not no_data.exists()  # no data loaded, no run folder


@pytest.mark.parametrize(
    ("given", "variables", "said"),
    [
        ({"model_package": "bad name!"}, {}, f"model_package: {BAD_NAME}"),
        ({"model_package": "bad name!", "publish": "yes"}, {}, f"model_package: {BAD_NAME}"),
        ({"model_package": None}, {"FASHION_MODEL_PACKAGE": "bad name!"}, f"FASHION_MODEL_PACKAGE: {BAD_NAME}"),
    ],
)
def test_notebook_parameters_check_package_names(
    no_data: Path, monkeypatch: pytest.MonkeyPatch, given: dict, variables: dict, said: str
) -> None:
    for variable, value in variables.items():
        monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError) as refused:
        parameters.notebook_parameters(**given)
    assert str(refused.value) == said
    unused = {**given, "publish": False}  # a name nothing is published to is not checked
    assert parameters.notebook_parameters(**unused) == (*list(unused.values())[:-1], False)


def test_a_bad_data_package_variable_is_named(no_data: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Left None, the notebooks' data_package comes from FASHION_DATA_PACKAGE: a bad one is named at
    the parameters cell, as ``fashion`` names it (before: the registry's line, no variable named)."""
    monkeypatch.setenv("FASHION_DATA_PACKAGE", "bad name!")
    with pytest.raises(ConfigError) as refused:
        parameters.notebook_parameters(data_package=None, publish=False)
    assert str(refused.value) == f"FASHION_DATA_PACKAGE: {BAD_NAME}"
    assert parameters.notebook_parameters(data_package="good/data") == ("good/data",)  # given: the variable is unused


@pytest.mark.parametrize("name", ["a/b/c", "bad name!"])
def test_a_bad_data_package_parameter_is_named(no_data: Path, name: str) -> None:
    """A data_package given as a parameter is checked at the parameters cell and named (before: the
    registry's line, in the cell that loads the data, no parameter named)."""
    with pytest.raises(ConfigError) as refused:
        parameters.notebook_parameters(data_package=name, publish=False)
    assert str(refused.value).startswith(f"data_package: invalid package name {name!r}; expected 'owner/name'")
    assert not no_data.exists()


def test_a_run_folder_the_file_system_refuses_is_one_line(tmp_path: Path) -> None:
    """sysfs refuses a new folder to everyone, root included, though the folder looks writable beforehand:
    the run's first file names the folder (a DestinationError, one line in a notebook), not an OSError."""
    from fashion_lib.errors import DestinationError
    from fashion_lib.runfolder import write_json

    with pytest.raises(DestinationError) as refused:
        write_json(Path("/sys/fashion-test-run/provenance.json"), {})
    assert str(refused.value).startswith("run folder /sys/fashion-test-run: cannot write provenance.json: ")


@pytest.mark.parametrize("call", ["run", "train_evaluate_publish"])
def test_the_library_checks_the_model_package_before_loading_data(
    no_data: Path, monkeypatch: pytest.MonkeyPatch, call: str
) -> None:
    for module, name in ((pipeline, "ensure_data_package"), (run_steps, "load_data")):
        monkeypatch.setattr(module, name, lambda **kwargs: pytest.fail("data loaded before the name was checked"))
    with pytest.raises(ConfigError, match=re.escape(f"model_package: {BAD_NAME}")):
        getattr(pipeline, call)(TrainConfig.from_preset("quick"), model_package="bad name!")
    monkeypatch.setenv("FASHION_MODEL_PACKAGE", "bad name!")
    with pytest.raises(ConfigError, match=re.escape(f"FASHION_MODEL_PACKAGE: {BAD_NAME}")):
        getattr(pipeline, call)(TrainConfig.from_preset("quick"))
    assert not no_data.exists()


# --------------------------------------------------------------------------- seed and output_dir

SEED = "is invalid; expected an integer from 0 to 2**31-1"


@pytest.mark.parametrize(
    ("given", "said"),
    [
        ({"seed": "abc"}, ("ConfigError", f"seed='abc' {SEED}")),
        ({"output_dir": "{file}"}, ("DestinationError", "output_dir='{file}' is a file; expected a folder")),
    ],
)
def test_explore_checks_seed_and_output_dir_at_its_parameter_cell(
    no_data: Path, tmp_path: Path, given: dict, said: tuple[str, str]
) -> None:
    """As train.ipynb does: one line at the first cell, before any data is loaded."""
    file = tmp_path / "afile"
    file.write_text("x")
    given = {name: value.format(file=file) for name, value in given.items()}
    name, traceback = _papermill_error("explore.ipynb", tmp_path, **given)
    assert (name, traceback) == (said[0], [f"{said[0]}: {said[1].format(file=file)}"])
    assert not no_data.exists()


@pytest.mark.parametrize(
    ("value", "said"),
    [
        ("abc", f"seed='abc' {SEED}"),
        (-1, f"seed=-1 {SEED}"),
        (2**31, f"seed=2147483648 {SEED}"),
        (1.5, f"seed=1.5 {SEED}"),
        (True, f"seed=True {SEED}"),
    ],
)
def test_a_bad_seed_is_the_config_line_given_or_from_the_notebook(
    monkeypatch: pytest.MonkeyPatch, value, said: str
) -> None:
    with pytest.raises(ConfigError) as refused:
        parameters.notebook_parameters(seed=value)
    assert str(refused.value) == said
    with pytest.raises(ConfigError):  # the parameters cell defines it: explore.ipynb does not pass it
        pipeline.config_from_parameters("quick", seed=value)
    monkeypatch.setattr(parameters, "_notebook_namespace", lambda: {"seed": value})
    with pytest.raises(ConfigError) as refused:
        parameters.notebook_parameters(registry=None)
    assert str(refused.value) == said


def test_good_seeds_pass(monkeypatch: pytest.MonkeyPatch) -> None:
    assert parameters.notebook_parameters(seed=0, registry=None) == (0, None)
    monkeypatch.setattr(parameters, "_notebook_namespace", lambda: {"seed": None})
    assert parameters.notebook_parameters(seed=2**31 - 1) == (2**31 - 1,)


@pytest.mark.parametrize(
    ("output_dir", "variable", "said"),
    [
        ("{file}", None, "output_dir='{file}' is a file; expected a folder"),
        ("{file}/sub", None, "output_dir='{file}/sub' cannot be made: {file} is a file"),
        (None, "{file}", "FASHION_OUTPUT_DIR='{file}' is a file; expected a folder"),
        (None, "{file}/outputs", "FASHION_OUTPUT_DIR='{file}/outputs' cannot be made: {file} is a file"),
    ],
)
def test_an_output_dir_that_cannot_be_a_folder_is_one_line(
    no_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, output_dir, variable, said: str
) -> None:
    file = tmp_path / "afile"
    file.write_text("x")
    if variable:
        monkeypatch.setenv("FASHION_OUTPUT_DIR", variable.format(file=file))
    given = output_dir.format(file=file) if output_dir else None
    with pytest.raises(DestinationError) as refused:
        parameters.notebook_parameters(output_dir=given)
    assert str(refused.value) == said.format(file=file)
    assert file.read_text() == "x" and not no_data.exists()  # nothing made
    good = str(tmp_path / "new" / "folder")  # a folder that can be made is taken, and is not made
    assert parameters.notebook_parameters(output_dir=good) == (good,) and not (tmp_path / "new").exists()


# --------------------------------------------------------------------------- presets and assignments

UNKNOWN = "; choose one of: default, quick, v1, v2, accurate"


@pytest.mark.parametrize("preset", [["quick"], {"a": 1}])
def test_a_preset_that_is_no_name_is_an_unknown_preset(preset) -> None:
    """papermill's ``-y "preset: [quick]"`` gives a list, ``-y "preset: {a: 1}"`` a dict."""
    for build in (pipeline.config_from_parameters, TrainConfig.from_preset):
        with pytest.raises(ConfigError) as refused:
            build(preset)
        assert str(refused.value) == f"unknown preset {preset!r}{UNKNOWN}"


def test_assignments_given_as_one_string_are_refused() -> None:
    with pytest.raises(ConfigError) as refused:
        pipeline.config_from_parameters("quick", assignments="dropout=0.3")
    assert str(refused.value) == (
        "assignments='dropout=0.3' is one string; expected a list of KEY=VALUE strings, e.g. ['dropout=0.3']"
    )
    with pytest.raises(ConfigError, match=r"^--set 5: expected KEY=VALUE"):
        pipeline.config_from_parameters("quick", assignments=[5])
    assert pipeline.config_from_parameters("quick", assignments=["dropout=0.3"]).dropout == 0.3


def test_a_notebook_that_publishes_to_a_registry_it_cant_write_is_refused_by_its_parameters_cell(
    no_data: Path, tmp_path: Path
) -> None:
    """Before: train.ipynb trained (ten minutes by default) and only its publish cell said the registry
    could not be written. Now the parameters cell says the line that publish would end in; a notebook that
    does not publish is not refused."""
    from readonly_support import read_only

    from fashion_lib.errors import RegistryAccessDenied

    reg = tmp_path / "registry"
    reg.mkdir()
    given = {"registry": str(reg), "model_package": None, "output_dir": None}
    with read_only(reg):
        with pytest.raises(RegistryAccessDenied, match=f"^publishing fashion-mnist/model: local registry {reg} is not"):
            parameters.notebook_parameters(**given, publish=True)
        assert parameters.notebook_parameters(**given, publish=False)[-1] is False
