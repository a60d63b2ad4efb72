"""A misspelled papermill parameter (``-p epoch 1``) is one line naming it and its close match,
before anything runs: papermill itself only warns, and the notebook went on with the default."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import nbformat
import pytest

from fashion_lib.errors import ConfigError
from fashion_lib.notebook_cells import check_injected

ROOT = Path(__file__).resolve().parent.parent
KERNEL = "fashion-mnist"
PARAMETERS = 'epochs = None  # None: the default\ntop_hash = None\npreset: str = "quick"\n'


def _shell(*cells: str) -> SimpleNamespace:
    """A stand-in for IPython's shell that ran ``cells`` (its ``In`` starts with an empty entry)."""
    return SimpleNamespace(user_ns={"In": ["", *cells]})


def _error(shell: SimpleNamespace) -> str:
    with pytest.raises(ConfigError) as caught:
        check_injected(shell)
    return str(caught.value)


def test_an_unknown_name_is_named_with_its_close_match() -> None:
    said = _error(_shell(PARAMETERS, "# Parameters\nepoch = 1\n", "parameters.notebook_parameters()"))
    assert said == (
        "unknown notebook parameter 'epoch' (did you mean 'epochs'?); this notebook's parameters: epochs, top_hash, preset"
    )
    said = _error(_shell(PARAMETERS, "# Parameters\ntophash = 'ab'\nEpochs = 2\nfoo = 1\n"))
    assert said.startswith(
        "unknown notebook parameters 'tophash' (did you mean 'top_hash'?), 'Epochs' (did you mean 'epochs'?), 'foo'; "
    )


@pytest.mark.parametrize(
    "cells",
    [
        (PARAMETERS, "# Parameters\nepochs = 1\npreset = 'default'\n"),  # known names
        (PARAMETERS, "# Parameters\nPAPERMILL_INPUT_PATH = 'a.ipynb'\n"),  # papermill --inject-paths
        (PARAMETERS,),  # no injected cell: run in JupyterLab as it is
        ("# Parameters\nepoch = 1\n",),  # no parameters cell: papermill put its cell at the top
        ("import os\nx = 1\n", "# Parameters\nepoch = 1\n"),  # the cell before is no parameters cell
    ],
)
def test_nothing_is_said_where_nothing_is_unknown_or_known(cells: tuple[str, ...]) -> None:
    check_injected(_shell(*cells))


def test_nothing_outside_ipython() -> None:
    check_injected(None)
    check_injected(SimpleNamespace(user_ns={}))


def _run(notebook: Path, tmp_path: Path, **given) -> tuple[bool, list]:
    """Run ``notebook`` under papermill: (whether it failed, the code cells' outputs)."""
    import papermill

    out = tmp_path / "out.ipynb"
    try:
        papermill.execute_notebook(
            str(notebook), str(out), parameters=given, kernel_name=KERNEL, cwd=str(tmp_path), progress_bar=False
        )
        failed = False
    except papermill.PapermillExecutionError:
        failed = True
    nb = nbformat.read(out, as_version=4)
    return failed, [c.get("outputs", []) for c in nb.cells if c.cell_type == "code"]


@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    """A notebook of a parameters cell, the call the project's notebooks make, and a cell after it."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": KERNEL, "display_name": KERNEL, "language": "python"}
    params = nbformat.v4.new_code_cell(PARAMETERS)
    params.metadata["tags"] = ["parameters"]
    call = "from fashion_lib import parameters\n(top_hash,) = parameters.notebook_parameters(top_hash=top_hash)"
    nb.cells = [params, nbformat.v4.new_code_cell(call), nbformat.v4.new_code_cell("print('went on')")]
    path = tmp_path / "tiny.ipynb"
    nbformat.write(nb, path)
    return path


def test_papermill_run_stops_at_the_call_with_one_line(tiny: Path, tmp_path: Path) -> None:
    failed, outputs = _run(tiny, tmp_path, epoch=1)
    assert failed
    errors = [o for cell in outputs for o in cell if o.output_type == "error"]
    assert [(e.ename, e.traceback) for e in errors] == [
        (
            "ConfigError",
            [
                "ConfigError: unknown notebook parameter 'epoch' (did you mean 'epochs'?); "
                "this notebook's parameters: epochs, top_hash, preset"
            ],
        )
    ]
    assert outputs[-1] == []  # the cell after it never ran
    failed, outputs = _run(tiny, tmp_path, epochs=1, top_hash="ab")
    assert not failed and "went on" in outputs[-1][0]["text"]


def test_train_notebook_with_a_misspelled_parameter_fails_before_training(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home"
    monkeypatch.setenv("FASHION_HOME", str(home))
    for name in ("FASHION_REGISTRY", "FASHION_OUTPUT_DIR", "FASHION_DATA_PACKAGE", "FASHION_MODEL_PACKAGE"):
        monkeypatch.delenv(name, raising=False)
    failed, outputs = _run(ROOT / "train.ipynb", tmp_path, preset="quick", epoch=1)
    assert failed
    errors = [(i, o) for i, cell in enumerate(outputs) for o in cell if o.output_type == "error"]
    assert len(errors) == 1 and errors[0][0] == 2, errors  # the second code cell after papermill's own
    assert (
        errors[0][1]
        .traceback[0]
        .startswith(
            "ConfigError: unknown notebook parameter 'epoch' (did you mean 'epochs'?); "
            "this notebook's parameters: preset, epochs, "
        )
    )
    assert not home.exists()  # no data loaded, nothing trained or written
