"""benchmarks/keras_compat.py: scores a shipped file with plain Keras; bad input is one line, exit 2."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from fashion_lib.config import TrainConfig

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "benchmarks" / "keras_compat.py"
TINY = TrainConfig(
    stages=[[4], [8]], dense_units=16, tta_shift=0, precision="float32"
)  # small and fast: image + mirror only


def _script():
    spec = importlib.util.spec_from_file_location("keras_compat", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _write_csv(path: Path, images: np.ndarray, labels: np.ndarray) -> Path:
    header = "label," + ",".join(f"pixel{i}" for i in range(1, 785))
    rows = [",".join(map(str, [label, *image.ravel()])) for image, label in zip(images, labels, strict=True)]
    path.write_text("\n".join([header, *rows]) + "\n")
    return path


@pytest.fixture(scope="module")
def shipped(tmp_path_factory):
    """A tiny shipped file and a CSV whose labels are its own predictions (accuracy 1.0)."""
    from fashion_lib.model import build_model, export_model, save_model

    folder = tmp_path_factory.mktemp("compat")
    model = export_model(build_model(TINY), TINY)
    images = np.random.default_rng(2).integers(0, 256, size=(12, 28, 28), dtype=np.uint8)
    labels = model.predict(images, verbose=0).argmax(1)
    return save_model(model, folder / "clf.keras"), _write_csv(folder / "test.csv", images, labels)


def test_scores_the_file_and_compares_with_the_recorded_accuracy(shipped, tmp_path, capsys):
    model, csv = shipped
    (tmp_path / "metrics.json").write_text(json.dumps({"test_accuracy": 1.0}))
    script = _script()
    probs = tmp_path / "probs.npy"
    assert script.main([str(model), str(csv), "--metrics", str(tmp_path / "metrics.json"), "--save", str(probs)]) == 0
    out = capsys.readouterr().out
    assert "accuracy: 1.0000 (12/12); recorded 1.0000" in out and out.rstrip().endswith("result: MATCH")
    assert script.main([str(model), str(csv), "--expected", "0.5", "--compare", str(probs), "--json"]) == 1
    found = json.loads(capsys.readouterr().out)
    assert (found["status"], found["correct"], found["compare_argmax_differs"]) == ("differs", 12, 0)
    assert found["versions"]["keras"] and found["load_seconds"] >= 0


def test_with_nothing_recorded_the_result_is_not_compared_never_match(shipped, tmp_path, capsys):
    model, csv = shipped
    assert not (model.parent / "metrics.json").exists()
    script = _script()
    probs = tmp_path / "probs.npy"
    assert script.main([str(model), str(csv), "--save", str(probs)]) == 0
    out = capsys.readouterr().out
    assert "accuracy: 1.0000 (12/12); nothing recorded" in out and "MATCH" not in out
    assert out.rstrip().endswith(
        "result: NOT COMPARED (no metrics.json beside the model: no recorded accuracy; give --metrics or --expected)"
    )
    assert script.main([str(model), str(csv), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["status"] == "not_compared"
    assert script.main([str(model), str(csv), "--compare", str(probs)]) == 0  # predictions compared: a match
    assert capsys.readouterr().out.rstrip().endswith("result: MATCH")


def test_a_file_this_keras_refuses_is_one_line_and_exit_3(shipped, tmp_path, capsys):
    model, csv = shipped
    broken = tmp_path / "clf.keras"
    with zipfile.ZipFile(model) as src, zipfile.ZipFile(broken, "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "config.json":
                data = data.replace(b'"units": 10,', b'"units": 10, "from_the_future": 1,')
            dst.writestr(info, data)
    assert _script().main([str(broken), str(csv), "--expected", "1"]) == 3
    out = capsys.readouterr().out
    line = next(x for x in out.splitlines() if x.startswith("load: FAILED"))
    assert "Unrecognized keyword arguments passed to Dense: {'from_the_future': 1}" in line
    assert "'layers'" not in line  # the innermost cause, not Keras' dump of the whole config


@pytest.mark.parametrize(
    "damage, expected",
    [
        ("header", "row 1: expected the header 'label,pixel1,...,pixel784' (785 columns)"),
        ("text", "row 3, field pixel5: 'x'; expected a whole number"),
        ("range", "row 2, field pixel1: 256; expected 0 to 255"),
        ("label", "row 2, field label: 10; expected 0 to 9"),
        ("short", "row 2: 3 fields; expected 785 (label and 784 pixels)"),
    ],
)
def test_a_bad_csv_is_one_line_naming_row_and_field(shipped, tmp_path, damage, expected):
    model, good = shipped
    lines = good.read_text().splitlines()
    if damage == "header":
        lines[0] = lines[0].replace("label,", "")
    elif damage == "text":
        fields = lines[2].split(",")
        lines[2] = ",".join([*fields[:5], "x", *fields[6:]])
    elif damage in ("range", "label"):
        fields = lines[1].split(",")
        fields[1 if damage == "range" else 0] = "256" if damage == "range" else "10"
        lines[1] = ",".join(fields)
    else:
        lines[1] = "1,2,3"
    csv = tmp_path / "test.csv"
    csv.write_text("\n".join(lines) + "\n")
    done = subprocess.run(
        [sys.executable, str(SCRIPT), str(model), str(csv)], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 2, done.stderr
    assert done.stderr == f"keras_compat: {csv}: {expected}\n"


def test_a_missing_model_is_one_line(tmp_path):
    done = subprocess.run(
        [sys.executable, str(SCRIPT), str(tmp_path / "nope.keras"), str(tmp_path / "t.csv")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert (done.returncode, done.stderr) == (
        2,
        f"keras_compat: {tmp_path / 'nope.keras'}: model file not found; expected a .keras file\n",
    )
