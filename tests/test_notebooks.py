"""The notebooks: papermill batch runs on real data, a broken parameter, and the committed copies."""

from __future__ import annotations

import ast
import json
import os
import re
from pathlib import Path

import nbformat
import pytest
from cli_support import cli

from fashion_lib import registry, settings
from fashion_lib.csvio import write_csv
from fashion_lib.idx import load_images, load_labels
from fashion_lib.sources import find_in

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ("explore.ipynb", "train.ipynb")
KERNEL = "fashion-mnist"
MAX_BYTES = 3_000_000
RAW = find_in(settings.DEBIAN_DATASET_DIR)
needs_data = pytest.mark.skipif(RAW is None, reason="Debian package dataset-fashion-mnist is not installed")


def _execute(notebook: str, out: Path, cwd: Path, **parameters):
    import papermill

    return papermill.execute_notebook(
        str(ROOT / notebook), str(out), parameters=parameters, kernel_name=KERNEL, cwd=str(cwd), progress_bar=False
    )


def _outputs(nb, kind: str) -> list:
    return [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []) if o.output_type == kind]


def _plot_cells(nb) -> list:
    return [c for c in nb.cells if c.cell_type == "code" and "plots." in c.source]


def _table_cells(nb) -> list:
    return [c for c in nb.cells if c.cell_type == "code" and "tables." in c.source]


SAVED = re.compile(r"""plots\.save\(.*,\s*["'](\w+)["']\)\s*$""", re.S)


def _saved_names(nb) -> list[str]:
    """The figure names the notebook's cells pass to ``plots.save``, in order."""
    names = []
    for cell in _plot_cells(nb):
        found = SAVED.search(cell.source)
        assert found, f"a figure cell that does not save its picture through plots.save: {cell.source[:80]}"
        names.append(found.group(1))
    return names


def _assert_figures_saved(nb, folder: Path) -> None:
    """Every picture the notebook shows is a PNG in ``folder``, one file per figure cell."""
    names = _saved_names(nb)
    pictures = [o for c in _plot_cells(nb) for o in c.outputs if "image/png" in o.get("data", {})]
    assert len(pictures) == len(names) == len(set(names))
    assert sorted(p.stem for p in folder.glob("*.png")) == sorted(names)
    for name in names:
        assert (folder / f"{name}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def _assert_tables_render(nb) -> None:
    """Every table cell ends with a formatted pandas table that Jupyter shows as HTML."""
    cells = _table_cells(nb)
    assert cells
    for cell in cells:
        html = [
            o.data["text/html"] for o in cell.outputs if o.output_type == "execute_result" and "text/html" in o.data
        ]
        assert len(html) == 1 and "<table" in html[0], cell.source


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A FASHION_HOME of its own for the kernels (inherited through the environment)."""
    path = tmp_path_factory.mktemp("nbhome")
    old = os.environ.get("FASHION_HOME")
    os.environ["FASHION_HOME"] = str(path)
    yield path
    if old is None:
        os.environ.pop("FASHION_HOME", None)
    else:
        os.environ["FASHION_HOME"] = old


@pytest.mark.slow
@needs_data
def test_explore_runs_under_papermill(home: Path, tmp_path: Path) -> None:
    out_dir = tmp_path / "explore"
    nb = _execute(
        "explore.ipynb",
        tmp_path / "explore.ipynb",
        tmp_path,
        registry=str(home / "registry"),
        output_dir=str(out_dir),
        seed=7,
    )
    assert not _outputs(nb, "error")
    for cell in _plot_cells(nb):
        assert any("image/png" in o.get("data", {}) for o in cell.outputs), cell.source
    assert (out_dir / "sample_grid.png").stat().st_size > 10_000
    _assert_figures_saved(nb, out_dir)
    _assert_tables_render(nb)
    balance = next(c for c in _table_cells(nb) if "class_balance" in c.source).outputs[0].data["text/html"]
    assert "6,000" in balance and "10.0%" in balance
    text = "".join(o.text for o in _outputs(nb, "stream") if o.name == "stdout")
    top_hash = registry.resolve_top_hash("fashion-mnist/data", None, registry=str(home / "registry"))
    assert f"fashion-mnist/data@{top_hash[:12]}" in text
    assert "fashion-mnist_train.csv: OK, 60000 rows" in text
    assert "drift (test): largest: Trouser mean intensity" in text  # the darkened copy trips its check


@pytest.mark.slow
@needs_data
def test_train_runs_under_papermill_and_publishes(home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Parameters left at None follow the environment, as the CLI does (and /data in the image).
    Not the README's papermill run (test_readme_commands): that one runs verbatim in a fresh copy
    with no FASHION_* variable set, so it cannot show the variables being followed."""
    reg = str(home / "registry")
    # nbtest/data: real rows, as many as the run trains on and a 1,000-image test set (not all 70,000
    # prepared again; a notebook preparing the data: test_readme_commands' papermill run, and docker's)
    images, labels = load_images(RAW["train-images-idx3-ubyte"]), load_labels(RAW["train-labels-idx1-ubyte"])
    train = write_csv(images[:4000], labels[:4000], tmp_path / "train.csv")
    images, labels = load_images(RAW["t10k-images-idx3-ubyte"]), load_labels(RAW["t10k-labels-idx1-ubyte"])
    test = write_csv(images[:1000], labels[:1000], tmp_path / "test.csv")
    pushed = cli("data", "push", "--name", "nbtest/data", "--train", str(train), "--test", str(test), "--registry", reg)
    assert pushed.returncode == 0, pushed.stderr
    outputs = tmp_path / "outputs"
    monkeypatch.setenv("FASHION_OUTPUT_DIR", str(outputs))
    monkeypatch.setenv("FASHION_DATA_PACKAGE", "nbtest/data")
    monkeypatch.setenv("FASHION_MODEL_PACKAGE", "nbtest/model")
    nb = _execute(
        "train.ipynb",
        tmp_path / "train.ipynb",
        tmp_path,
        preset="quick",
        epochs=2,
        limit=4000,
        registry=reg,
        publish=True,
    )
    assert not _outputs(nb, "error")
    runs = list(outputs.glob("run-*"))
    assert len(runs) == 1, f"expected one run folder in $FASHION_OUTPUT_DIR, found {runs}"
    out_dir = runs[0]
    for cell in _plot_cells(nb):
        assert any("image/png" in o.get("data", {}) for o in cell.outputs), cell.source
    _assert_figures_saved(nb, out_dir)
    _assert_tables_render(nb)
    metrics = json.loads((out_dir / "metrics.json").read_text())
    assert metrics["epochs_run"] == 2 and metrics["train_seconds"] > 0
    summary = "".join(o.get("text", "") for c in nb.cells if "describe_shipped" in c.source for o in c.outputs)
    assert "applied to 2 views of each image" in summary and "averaged inside the file" in summary
    answer = _outputs(nb, "execute_result")[-1].data["text/markdown"]
    assert f"**{metrics['test_accuracy']:.2%}**" in answer and metrics["model_top_hash"][:12] in answer
    assert 0.5 < metrics["test_accuracy"] <= 1.0 and metrics["test_loss"] > 0
    versions = {v.name: v.top_hash for v in registry.list_versions(registry=reg)}
    assert versions["nbtest/model"] == metrics["model_top_hash"]
    assert versions["nbtest/data"] == metrics["data_top_hash"]
    _, meta, _ = registry.read_meta("nbtest/model", registry=reg)
    assert meta["data"]["top_hash"] == metrics["data_top_hash"]
    assert meta["training"]["config"]["limit"] == 4000 and meta["training"]["config"]["epochs"] == 2


@pytest.mark.slow
@needs_data
def test_broken_parameter_fails_with_clear_message(home: Path, tmp_path: Path) -> None:
    import papermill

    out = tmp_path / "broken.ipynb"
    with pytest.raises(papermill.PapermillExecutionError) as info:
        _execute(
            "train.ipynb",
            out,
            tmp_path,
            preset="quick",
            epochs=-1,
            registry=str(home / "registry"),
            output_dir=str(tmp_path / "never"),
        )
    assert info.value.ename == "ConfigError"
    assert "epochs=-1 is invalid; expected an integer from 1 to 1000" in info.value.evalue
    saved = nbformat.read(out, as_version=4)
    errors = _outputs(saved, "error")
    assert errors and errors[0].ename == "ConfigError"
    assert not (tmp_path / "never").exists()  # refused before any work started


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_committed_notebook_is_a_clean_full_run(name: str) -> None:
    path = ROOT / name
    assert path.stat().st_size < MAX_BYTES
    nb = nbformat.read(path, as_version=4)
    assert nb.metadata["kernelspec"]["name"] == KERNEL
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert [c.execution_count for c in code] == list(range(1, len(code) + 1)), "run top to bottom, in order"
    assert not _outputs(nb, "error")
    for cell in _plot_cells(nb):
        assert any("image/png" in o.get("data", {}) for o in cell.outputs), f"no picture: {cell.source[:60]}"
    _assert_tables_render(nb)
    text = json.dumps([c.get("outputs", []) for c in code])
    for pattern in (
        r"/work/",
        r"/root/",
        r"/home/\w+",
        r"/tmp/",
        r"AKIA[0-9A-Z]{16}",
        r"aws_secret_access_key",
        r"token=[0-9a-f]{16,}",
    ):
        assert not re.search(pattern, text), f"{name} outputs contain {pattern!r}"
    tagged = [c for c in code if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_every_figure_is_saved_and_every_table_is_a_cell_result(name: str) -> None:
    """Static check of the sources: each figure goes through plots.save under its own name, and
    each table is the cell's last expression (so Jupyter renders it as HTML)."""
    nb = nbformat.read(ROOT / name, as_version=4)
    names = _saved_names(nb)
    assert names and len(names) == len(set(names))
    for cell in _table_cells(nb):
        python = "\n".join(line for line in cell.source.splitlines() if not line.startswith("%"))  # no magics
        last = ast.parse(python).body[-1]
        call = last.value if isinstance(last, ast.Expr) else None
        assert isinstance(call, ast.Call) and ast.unparse(call.func).startswith("tables."), cell.source
        assert not cell.source.rstrip().endswith(";"), cell.source


def test_train_notebook_summarises_the_shipped_model_after_training() -> None:
    nb = nbformat.read(ROOT / "train.ipynb", as_version=4)
    code = [c.source for c in nb.cells if c.cell_type == "code"]
    assert not any("build_model" in src for src in code), "an untrained throwaway model is summarised"
    summary = next(k for k, src in enumerate(code) if "describe_shipped" in src)
    fitted = next(k for k, src in enumerate(code) if "pipeline.fit(" in src)
    assert summary > fitted and "load_model_file(run.model_path)" in code[summary]
    assert "answer.training_answer(metrics" in code[-1]


@pytest.mark.parametrize(
    ("notebook", "parameter", "value", "said"),
    [
        ("train.ipynb", "epochs", -1, "ConfigError: epochs=-1 is invalid; expected an integer from 1 to 1000"),
        ("train.ipynb", "publish", "false!", "ConfigError: publish='false!' is not yes or no"),
        ("train.ipynb", "registry", "", "ConfigError: registry='' is empty; expected a registry folder"),
        ("train.ipynb", "data_package", " ", "ConfigError: data_package=' ' is only spaces; expected a package name"),
        ("explore.ipynb", "output_dir", "", "ConfigError: output_dir='' is empty; expected a folder"),
    ],
)
def test_a_bad_parameter_is_the_cells_one_line_error(
    home: Path, tmp_path: Path, notebook: str, parameter: str, value, said: str
) -> None:
    """What the README says: the run stops at the first cell, whose error is the ConfigError's one line
    (no traceback through fashion_lib), and papermill fails."""
    import papermill

    out = tmp_path / "broken.ipynb"
    with pytest.raises(papermill.PapermillExecutionError):
        _execute(notebook, out, tmp_path, **{parameter: value})
    errors = _outputs(nbformat.read(out, as_version=4), "error")
    assert len(errors) == 1 and errors[0].ename == "ConfigError"
    assert len(errors[0].traceback) == 1 and errors[0].traceback[0].startswith(said), errors[0].traceback
