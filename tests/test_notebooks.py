"""The notebooks: papermill batch runs on real data, a broken parameter, and the committed copies."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import nbformat
import pytest

from fashion_lib import registry, settings
from fashion_lib.sources import find_in

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ("explore.ipynb", "train.ipynb")
KERNEL = "fashion-mnist"
MAX_BYTES = 3_000_000
needs_data = pytest.mark.skipif(
    find_in(settings.DEBIAN_DATASET_DIR) is None, reason="Debian package dataset-fashion-mnist is not installed"
)


def _execute(notebook: str, out: Path, cwd: Path, **parameters):
    import papermill

    return papermill.execute_notebook(
        str(ROOT / notebook), str(out), parameters=parameters, kernel_name=KERNEL, cwd=str(cwd), progress_bar=False
    )


def _outputs(nb, kind: str) -> list:
    return [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []) if o.output_type == kind]


def _plot_cells(nb) -> list:
    return [c for c in nb.cells if c.cell_type == "code" and "plots." in c.source]


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
    text = "".join(o.text for o in _outputs(nb, "stream") if o.name == "stdout")
    top_hash = registry.resolve_top_hash("fashion-mnist/data", None, registry=str(home / "registry"))
    assert f"fashion-mnist/data@{top_hash[:12]}" in text
    assert "fashion-mnist_train.csv: OK, 60000 rows" in text


@pytest.mark.slow
@needs_data
def test_train_runs_under_papermill_and_publishes(home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Parameters left at None follow the environment, as the CLI does (and /data in the image)."""
    reg = str(home / "registry")
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
    metrics = json.loads((out_dir / "metrics.json").read_text())
    assert metrics["epochs_run"] == 2 and metrics["train_seconds"] > 0
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
