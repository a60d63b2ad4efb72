"""``fashion model push`` of a run folder whose ``metrics.json`` was edited by hand: one line naming the
file, the field and what was expected, exit 2, nothing published (before: an internal error, exit 70,
for a string or NaN; a published version that ``fashion reproduce`` then refused, for an accuracy of
1.5). The values reproduce uses are checked by its own rules. A tiny real run gives the folder."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cli_support import cli, one_line
from test_run_reuse import MODEL, tiny_setup

from fashion_lib import pipeline, registry
from fashion_lib.errors import ConfigError
from fashion_lib.lineage_values import check_reproducible
from fashion_lib.runfolder import METRICS_FILE


@pytest.fixture(scope="module")
def genuine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A finished run's folder as the current code writes it (fitted and evaluated, not published)."""
    root = tmp_path_factory.mktemp("genuine")
    with pytest.MonkeyPatch.context() as patch:
        config = tiny_setup(root, patch)
        run = pipeline.assess(pipeline.fit(pipeline.prepare_run(config, output_dir=root / "run"), verbose=0))
        yield run.output_dir


def _edited(genuine: Path, tmp_path: Path, edit: Any) -> Path:
    """A copy of the genuine folder whose metrics.json ``edit`` changed."""
    folder = tmp_path / "run"
    shutil.copytree(genuine, folder)
    metrics = json.loads((folder / METRICS_FILE).read_text())
    edit(metrics)
    (folder / METRICS_FILE).write_text(json.dumps(metrics))  # NaN and Infinity as Python writes them
    return folder


def _set(key: str, value: Any) -> Any:
    return lambda metrics: metrics.update({key: value})


def _set_cell(metrics: dict[str, Any]) -> None:
    metrics["confusion_matrix"][2][3] = float("nan")


CASES = [
    (
        _set("test_accuracy", "high"),
        "test_accuracy is 'high'; expected the recorded test accuracy, a number from 0 to 1",
    ),
    (_set("test_accuracy", 1.5), "test_accuracy is 1.5; expected the recorded test accuracy, a number from 0 to 1"),
    (_set("test_accuracy", -0.2), "test_accuracy is -0.2; expected the recorded test accuracy, a number from 0 to 1"),
    (_set("test_accuracy", True), "test_accuracy is True; expected the recorded test accuracy"),
    (_set("test_accuracy", float("nan")), "test_accuracy is nan; expected the recorded test accuracy"),
    (_set("test_loss", "low"), "test_loss is 'low'; expected a number, 0 or more"),
    (_set("test_loss", float("inf")), "test_loss is inf; expected a number, 0 or more"),
    (_set("test_accuracy_single_view", "a"), "test_accuracy_single_view is 'a'; expected a number from 0 to 1"),
    (_set("per_class", "x"), "per_class is 'x'; expected a mapping of class name to its precision, recall and f1"),
    (_set("per_class", {"Bag": 5}), "per_class.Bag is 5; expected a mapping of precision, recall and f1"),
    (_set("per_class", {"Bag": {"precision": "x"}}), "per_class.Bag.precision is 'x'; expected a number from 0 to 1"),
    (_set("per_class", {"Bag": {"precision": 0.5, "recall": 1}}), "per_class.Bag.f1 is missing; expected a number"),
    (_set("macro_f1", float("nan")), "macro_f1 is nan; expected a finite number (JSON has no NaN or Infinity)"),
    (_set_cell, "confusion_matrix[2][3] is nan; expected a finite number (JSON has no NaN or Infinity)"),
    (_set("train_seconds", "x"), "train_seconds is 'x'; expected the training time in seconds, a number, 0 or more"),
    (_set("epochs_run", 1.5), "epochs_run is 1.5; expected the number of epochs run, a whole number"),
    (_set("started", 5), "started is 5; expected a string or null"),
    (_set("data_package", 5), "data_package is 5; expected a package name 'owner/name'"),
    (_set("data_top_hash", "d" * 12), f"data_top_hash is '{'d' * 12}'; expected a top hash (64 hexadecimal digits)"),
]


@pytest.mark.parametrize(("edit", "said"), CASES)
def test_a_hand_edited_metrics_file_is_named_and_nothing_is_published(
    genuine: Path, tmp_path: Path, edit: Any, said: str
) -> None:
    folder = _edited(genuine, tmp_path, edit)
    reg = tmp_path / "registry"
    with pytest.raises(ConfigError) as refused:
        pipeline.push_run_folder(folder, registry=str(reg), name=MODEL)
    assert str(refused.value).startswith(f"{folder / METRICS_FILE}: {said}") and refused.value.exit_code == 2
    assert not reg.exists() or not registry.list_versions(registry=str(reg), name=MODEL)


def test_a_folder_without_provenance_is_checked_before_the_data_registry_is_read(genuine: Path, tmp_path: Path) -> None:
    """A run folder from before provenance.json: push reads the data version's verdict from its
    registry, which must not be asked with a hand-edited value (before: exit 70, an AttributeError)."""
    from fashion_lib.runfolder import PROVENANCE_FILE

    folder = _edited(genuine, tmp_path, _set("data_top_hash", 5))
    (folder / PROVENANCE_FILE).unlink()
    from csv_support import fashion_csvs

    from fashion_lib import data

    recorded = json.loads((folder / METRICS_FILE).read_text())
    csvs = fashion_csvs(tmp_path / "csvs", seed=7)  # the data's registry is there, as on the training machine
    data.publish_csvs(csvs, registry=recorded["data_registry"], name=recorded["data_package"], accept="random")
    with pytest.raises(ConfigError, match="data_top_hash is 5; expected a top hash"):
        pipeline.push_run_folder(folder, registry=str(tmp_path / "registry"), name=MODEL)
    assert not (tmp_path / "registry").exists()


def test_the_library_publish_checks_the_metrics_too(genuine: Path, tmp_path: Path) -> None:
    """``model_package.publish_model`` (a folder and a lineage built elsewhere) refuses the same file."""
    from fashion_lib.lineage import run_lineage
    from fashion_lib.model_package import publish_model

    lineage = run_lineage(genuine)
    folder = _edited(genuine, tmp_path, _set("test_accuracy", 1.5))
    with pytest.raises(ConfigError, match="test_accuracy is 1.5; expected"):
        publish_model(folder, lineage, registry=str(tmp_path / "registry"), name=MODEL)
    assert not (tmp_path / "registry").exists()


def test_a_genuine_run_is_published_and_reproduce_accepts_its_lineage(genuine: Path, tmp_path: Path) -> None:
    reg = str(tmp_path / "registry")
    top_hash = pipeline.push_run_folder(genuine, registry=reg, name=MODEL)
    _, meta, _ = registry.read_meta(MODEL, registry=reg, top_hash=top_hash)
    check_reproducible(MODEL, top_hash, meta)
    assert meta["metrics"]["per_class"] and meta["metrics"]["test_loss"] >= 0


def test_the_command_says_one_line_and_exits_2(genuine: Path, tmp_path: Path) -> None:
    folder = _edited(genuine, tmp_path, _set("test_loss", float("nan")))
    reg = tmp_path / "registry"
    done = cli("model", "push", str(folder), "--registry", str(reg), FASHION_HOME=str(tmp_path / "home"))
    assert done.returncode == 2 and done.stdout == ""
    assert one_line(done) == f"fashion: error: {folder / METRICS_FILE}: test_loss is nan; expected a number, 0 or more"
    assert not reg.exists() or not registry.list_versions(registry=str(reg))


# ---------------------------------------------------------------- history.csv: published, so checked too


def _with_history(genuine: Path, tmp_path: Path, epochs: int = 3) -> Path:
    """A copy of the genuine folder whose history (written by the trainer's own writer) has ``epochs``
    rows, as metrics.json's ``epochs_run`` says."""
    from fashion_lib.training.callbacks import write_history

    folder = _edited(genuine, tmp_path, _set("epochs_run", epochs))
    row = {"loss": 2.25, "accuracy": 0.125, "val_loss": 2.5, "val_accuracy": 0.1, "lr": 0.001, "seconds": 1.5}
    write_history([{"epoch": n, **row} for n in range(1, epochs + 1)], folder)
    return folder


def _cut_last_row(text: str) -> str:
    return "".join(text.splitlines(keepends=True)[:-1])


HISTORY_DAMAGE = [
    (lambda path: path.unlink(), "{folder}: history.csv is missing; expected the files of a finished training run"),
    (lambda path: path.write_text(""), "{path}: is empty; expected the history.csv of a finished training run"),
    (
        lambda path: path.write_text(_cut_last_row(path.read_text())),
        "{path}: 2 epoch row(s), but metrics.json says 3 epochs were run (cut short?); expected the history.csv",
    ),
    (
        lambda path: path.write_text(_cut_last_row(path.read_text()) + "3,2.2"),
        "{path}: line 4 has 2 values, the header 7 (cut short?); expected the history.csv",
    ),
    (
        lambda path: path.write_text(path.read_text().replace("2.25", "lots", 1)),
        "{path}: line 2: loss is 'lots', not a number; expected the history.csv",
    ),
    (
        lambda path: path.write_text(path.read_text().replace("\n2,", "\n7,", 1)),
        "{path}: line 3: epoch is 7; expected 2 (a row per epoch, from 1); expected the history.csv",
    ),
    (
        lambda path: path.write_text("step,value\n1,2\n2,3\n3,4\n"),
        "{path}: no 'epoch' column (header: 'step,value'); expected the history.csv",
    ),
    (lambda path: path.write_bytes(b"\xff\xfe\x00e"), "{path}: cannot be read (UnicodeDecodeError); expected"),
    (lambda path: (path.unlink(), path.mkdir()), "{path}: is a directory; expected the history.csv of a run"),
]


def test_a_history_as_a_run_writes_it_is_published(genuine: Path, tmp_path: Path) -> None:
    folder = _with_history(genuine, tmp_path)
    reg = str(tmp_path / "registry")
    top_hash = pipeline.push_run_folder(folder, registry=reg, name=MODEL)
    fetched = registry.fetch(MODEL, tmp_path / "fetched", registry=reg, top_hash=top_hash)
    assert Path(fetched.files["history.csv"]).read_bytes() == (folder / "history.csv").read_bytes()


@pytest.mark.parametrize(("damage", "said"), HISTORY_DAMAGE)
def test_a_missing_or_damaged_history_is_named_and_nothing_is_published(
    genuine: Path, tmp_path: Path, damage: Any, said: str
) -> None:
    folder = _with_history(genuine, tmp_path)
    damage(folder / "history.csv")
    reg = tmp_path / "registry"
    with pytest.raises(ConfigError) as refused:
        pipeline.push_run_folder(folder, registry=str(reg), name=MODEL)
    assert str(refused.value).startswith(said.format(folder=folder, path=folder / "history.csv"))
    assert refused.value.exit_code == 2 and not reg.exists()


def test_model_push_of_a_truncated_history_says_one_line_and_exits_2(genuine: Path, tmp_path: Path) -> None:
    folder = _with_history(genuine, tmp_path)
    history = folder / "history.csv"
    history.write_bytes(history.read_bytes()[:-20])  # cut short while it was copied
    reg = tmp_path / "registry"
    done = cli("model", "push", str(folder), "--registry", str(reg), FASHION_HOME=str(tmp_path / "home"))
    assert done.returncode == 2 and done.stdout == ""
    assert one_line(done).startswith(f"fashion: error: {history}: line 4 has ")
    assert not reg.exists() or not registry.list_versions(registry=str(reg))


def test_a_run_whose_data_registry_folder_is_not_utf8_is_published(genuine: Path, tmp_path: Path) -> None:
    """A run trained from a registry folder named in Latin-1 (byte 0xE9): its metrics.json records that path
    (JSON escapes the byte), and model push failed with exit 70, UnicodeEncodeError in quilt3's manifest
    writer, after the whole training. Now the lineage records it with the byte escaped (``\\xe9``)."""
    import os

    latin1 = os.fsdecode(tmp_path / os.fsdecode(b"lat\xe9") / "registry")
    folder = _edited(genuine, tmp_path, _set("data_registry", latin1))
    done = cli("model", "push", str(folder), "--registry", str(tmp_path / "registry"), "--model-package", MODEL)
    assert done.returncode == 0, done.stderr
    shown = cli("lineage", "--registry", str(tmp_path / "registry"), "--model-package", MODEL, "--json")
    recorded = json.loads(shown.stdout)["lineage"]["data"]["registry"]
    assert recorded == latin1.replace("\udce9", "\\xe9") and "lat\\xe9" in recorded
