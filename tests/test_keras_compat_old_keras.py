"""Keras 3.0 to 3.3 can't read the shipped file; benchmarks/keras_compat.py says why in one line.

Checked by hand with Keras 3.0.5, 3.1.1, 3.2.1 and 3.3.3 (JAX 0.4.26): every one fails with
"TypeError: functional_from_config.<locals>.get_tensor() takes 3 positional arguments but 5 were
given". Keras 3.11 and later write a one-input model's ``input_layers`` as ``["image", 0, 0]``;
3.0 to 3.3 read only ``[["image", 0, 0]]``. With that one change they load the file and give the
same predictions, but today's Keras then loads ``model.input`` as a list: so the file stays as it is.
"""

from __future__ import annotations

import importlib.util
import json
import zipfile
from pathlib import Path

import pytest

from fashion_lib.config import TrainConfig

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "keras_compat.py"
OLD_ERROR = "functional_from_config.<locals>.get_tensor() takes 3 positional arguments but 5 were given"


def _script():
    spec = importlib.util.spec_from_file_location("keras_compat", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_keras_3_3_refusing_the_file_is_one_line_saying_which_keras_reads_it(tmp_path, monkeypatch, capsys):
    import keras

    def old_keras_load(path, *args, **kwargs):
        raise TypeError(OLD_ERROR)

    monkeypatch.setattr(keras.models, "load_model", old_keras_load)
    monkeypatch.setattr(keras, "__version__", "3.3.3")
    model = tmp_path / "clf.keras"
    model.write_bytes(b"loaded by the stand-in only")
    csv = tmp_path / "test.csv"
    csv.write_text("label," + ",".join(f"pixel{i}" for i in range(1, 785)) + "\n" + ",".join(["0"] * 785) + "\n")
    assert _script().main([str(model), str(csv), "--expected", "1"]) == 3
    failed = [line for line in capsys.readouterr().out.splitlines() if line.startswith("load: FAILED")]
    assert failed == [
        "load: FAILED: Keras 3.3.3 can't read this file: Keras 3.0 to 3.3 read a model's single input and output "
        "only as [[name, 0, 0]], and this file has [name, 0, 0]; install Keras 3.4 or later "
        f"(TypeError: {OLD_ERROR})"
    ]


def test_other_load_errors_are_left_as_they_are():
    assert _script().explain("ValueError: File not found", "3.15.1") == "ValueError: File not found"


@pytest.fixture(scope="module")
def saved(tmp_path_factory) -> Path:
    from fashion_lib.model import build_model, export_model, save_model

    tiny = TrainConfig(stages=[[4], [8]], dense_units=16, tta_shift=0, precision="float32")
    return save_model(export_model(build_model(tiny), tiny), tmp_path_factory.mktemp("old") / "clf.keras")


def _functionals(node):
    if isinstance(node, dict):
        if node.get("class_name") == "Functional":
            yield node["config"]
        for value in node.values():
            yield from _functionals(value)
    elif isinstance(node, list):
        for value in node:
            yield from _functionals(value)


def test_the_file_writes_single_inputs_bare_and_nesting_them_would_change_the_model_here(saved, tmp_path):
    """Why the README says Keras 3.4 or later: the form 3.0 to 3.3 need makes ``model.input`` a list here."""
    import keras

    with zipfile.ZipFile(saved) as archive:
        members = [(info, archive.read(info)) for info in archive.infolist()]
    config = json.loads(dict((i.filename, d) for i, d in members)["config.json"])
    functionals = list(_functionals(config))
    assert len(functionals) == 2  # the views wrapper and the network inside it
    for functional in functionals:
        assert functional["input_layers"] == ["image", 0, 0]  # what Keras 3.0 to 3.3 can't read
        assert len(functional["output_layers"]) == 3 and isinstance(functional["output_layers"][0], str)
        for key in ("input_layers", "output_layers"):
            functional[key] = [functional[key]]  # the form Keras 3.0 to 3.10 wrote
    nested = tmp_path / "nested.keras"
    with zipfile.ZipFile(nested, "w") as archive:
        for info, data in members:
            archive.writestr(info, json.dumps(config).encode() if info.filename == "config.json" else data)
    assert isinstance(keras.models.load_model(saved).input, keras.KerasTensor)
    assert isinstance(keras.models.load_model(nested).input, list)
