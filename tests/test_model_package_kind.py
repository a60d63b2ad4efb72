"""A package that is not a model (no ``clf.keras``: a data package's name given as the model's) is
refused by ``model fetch``, ``evaluate`` and ``predict`` in one line, exit 2, before a byte is
fetched. A real registry folder; the data package's CSVs are never copied anywhere."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from cli_support import cli, one_line

from fashion_lib import registry

DATA = "t/data"


@pytest.fixture
def reg(tmp_path: Path) -> str:
    (tmp_path / "train.csv").write_text("label,pixel1\n1,0\n")
    folder = str(tmp_path / "registry")
    registry.push(
        DATA,
        {"fashion-mnist_train.csv": tmp_path / "train.csv", "fashion-mnist_test.csv": tmp_path / "train.csv"},
        registry=folder,
    )
    return folder


def _image(tmp_path: Path) -> Path:
    from PIL import Image

    path = tmp_path / "shirt.png"
    Image.fromarray(np.zeros((28, 28), np.uint8), "L").save(path)
    return path


@pytest.mark.parametrize("command", ["model fetch", "evaluate", "predict"])
def test_a_package_without_clf_keras_is_not_taken_for_a_model(reg: str, tmp_path: Path, command: str) -> None:
    home = tmp_path / "home"
    extra = {
        "model fetch": ["--dest", str(tmp_path / "dest")],
        "evaluate": [],
        "predict": [str(_image(tmp_path))],
    }[command]
    done = cli(*command.split(), *extra, "--model-package", DATA, "--registry", reg, FASHION_HOME=str(home))
    top_hash = registry.resolve_top_hash(DATA, None, registry=reg)
    assert done.returncode == 2 and done.stdout == ""
    assert one_line(done).startswith(f"fashion: error: {DATA}@{top_hash[:12]} has no clf.keras; is it a model package?")
    assert not (tmp_path / "dest").exists() and not home.exists()  # nothing fetched, not even to the cache
