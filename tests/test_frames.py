"""pandas where people expect a table: DataFrame accessors beside the existing return types."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from fashion_lib import registry
from fashion_lib.classes import CLASS_NAMES
from fashion_lib.csvio import Dataset
from fashion_lib.data import DataVersion
from fashion_lib.lineage import lineage_frame, lineage_from_metrics, per_class_frame
from fashion_lib.model_package import history_frame
from fashion_lib.runfolder import HISTORY_CSV, RunFolder


def version() -> DataVersion:
    rng = np.random.default_rng(1)
    train = Dataset(rng.integers(0, 256, (30, 28, 28), dtype=np.uint8), np.arange(30, dtype=np.uint8) % 10)
    test = Dataset(np.zeros((10, 28, 28), dtype=np.uint8), np.arange(10, dtype=np.uint8)[::-1].copy())
    return DataVersion("fashion-mnist/data", "a" * 64, "/reg", train, test, {}, {})


def test_a_data_version_as_a_frame_in_the_csv_layout() -> None:
    data = version()
    frame = data.to_frame("train")
    assert list(frame.columns[:3]) == ["label", "class_name", "pixel1"] and frame.columns[-1] == "pixel784"
    assert frame.shape == (30, 786)
    np.testing.assert_array_equal(frame.filter(like="pixel").to_numpy().reshape(-1, 28, 28), data.train.images)
    assert frame["class_name"].iloc[9] == CLASS_NAMES[9] == "Ankle boot"
    test = data.to_frame("test", pixels=False)
    assert list(test.columns) == ["label", "class_name"] and test["label"].tolist() == list(range(9, -1, -1))
    assert isinstance(data.train.images, np.ndarray)  # the training path is unchanged
    with pytest.raises(ValueError, match="'valid'"):
        data.to_frame("valid")


def test_package_versions_as_a_frame(tmp_path: Path) -> None:
    reg = str(tmp_path / "registry")
    (tmp_path / "f").write_bytes(b"one")
    first = registry.push("a/b", {"f": tmp_path / "f"}, registry=reg, message="one")
    (tmp_path / "f").write_bytes(b"two")
    second = registry.push("a/b", {"f": tmp_path / "f"}, registry=reg, message="two")
    versions = registry.list_versions(registry=reg)
    frame = registry.versions_frame(versions)
    assert list(frame.columns) == ["name", "top_hash", "created", "message", "damaged"]
    assert frame["top_hash"].tolist() == [v.top_hash for v in versions] and set(frame["top_hash"]) == {first, second}
    assert frame["message"].tolist() == [v.message for v in versions]
    assert registry.versions_frame([]).empty


METRICS = {
    "data_package": "fashion-mnist/data",
    "data_top_hash": "d" * 64,
    "test_accuracy": 0.9,
    "test_loss": 0.3,
    "per_class": {
        "T-shirt/top": {"precision": 0.8, "recall": 0.7, "f1": 0.75, "support": 1000},
        "Trouser": {"precision": 0.99, "recall": 0.98, "f1": 0.985, "support": 1000},
    },
}


def test_lineage_as_a_two_column_frame() -> None:
    record = lineage_from_metrics(METRICS, {"epochs": 2, "stages": [[32], [64]]})
    frame = lineage_frame(record)
    assert list(frame.columns) == ["field", "value"]
    values = dict(zip(frame["field"], frame["value"]))
    assert values["data.top_hash"] == "d" * 64 and values["training.config.epochs"] == 2
    assert values["training.config.stages"] == [[32], [64]]
    assert values["metrics.per_class.Trouser.recall"] == 0.98
    assert len(frame) == len(set(frame["field"]))


def test_per_class_scores_as_a_frame() -> None:
    frame = per_class_frame(METRICS)
    assert frame.index.name == "class" and frame.index.tolist() == ["T-shirt/top", "Trouser"]
    assert frame.loc["Trouser", "f1"] == 0.985 and frame["support"].sum() == 2000
    record = lineage_from_metrics(METRICS, {})
    pd.testing.assert_frame_equal(per_class_frame(record), frame)  # a whole lineage record will do too
    with pytest.raises(ValueError, match="per_class"):
        per_class_frame({"test_accuracy": 0.9})


def test_history_as_a_frame(tmp_path: Path) -> None:
    rows = [{"epoch": 1, "loss": 0.9, "val_accuracy": 0.7}, {"epoch": 2, "loss": 0.5, "val_accuracy": 0.8}]
    pd.DataFrame(rows).to_csv(tmp_path / HISTORY_CSV, index=False)
    frame = history_frame(tmp_path)
    assert frame.index.name == "epoch" and frame.index.tolist() == [1, 2]
    assert frame["val_accuracy"].tolist() == [0.7, 0.8]
    pd.testing.assert_frame_equal(history_frame(RunFolder(tmp_path).history_csv), frame)

    class Fetched:
        files = {HISTORY_CSV: tmp_path / HISTORY_CSV}

    pd.testing.assert_frame_equal(history_frame(Fetched()), frame)


def test_history_of_a_folder_without_one_names_the_file(tmp_path: Path) -> None:
    from fashion_lib.errors import ConfigError

    with pytest.raises(ConfigError, match=f"{HISTORY_CSV}: expected the {HISTORY_CSV}"):
        history_frame(tmp_path)


def test_pandas_is_imported_lazily() -> None:
    import subprocess
    import sys

    code = (
        "import sys, fashion_lib.data, fashion_lib.lineage, fashion_lib.model_package, fashion_lib.registry;"
        "print('pandas' in sys.modules)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=Path(__file__).parents[1]
    )
    assert done.stdout.strip() == "False"
