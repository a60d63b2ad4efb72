"""The notebooks' tables: formatted pandas tables that render as HTML, numbers kept underneath."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from fashion_lib import tables
from fashion_lib.classes import CLASS_NAMES
from fashion_lib.config import TrainConfig
from fashion_lib.registry.records import PackageVersion

PER_CLASS = {
    name: {"precision": 0.9, "recall": 0.95 - k / 100, "f1": 0.92 - k / 100, "support": 1000}
    for k, name in enumerate(CLASS_NAMES)
}


def _cells(styler) -> list[str]:
    """The displayed text of every body cell, row by row."""
    styler._compute()
    return [c["display_value"] for row in styler._translate(False, False)["body"] for c in row if c["type"] == "td"]


def _highlighted_rows(styler) -> set:
    styler._compute()
    return {styler.data.index[i] for (i, _), css in styler.ctx.items() if css and "background" in css[0][0]}


def test_class_balance_counts_and_shares_per_split() -> None:
    train = np.repeat(np.arange(10), 6)
    test = np.array([0, 0, 1, 1, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 9, 9])
    styler = tables.class_balance({"train": train, "test": test})
    assert list(styler.data.columns) == ["train images", "train share", "test images", "test share"]
    assert styler.data.loc["Trouser", "test images"] == 3 and styler.data.loc["Ankle boot", "test share"] == 0.25
    assert _cells(styler)[:4] == ["6", "10.0%", "2", "12.5%"]
    assert "<table" in styler.to_html()


def test_per_class_in_percent_with_the_weakest_class_highlighted() -> None:
    styler = tables.per_class({"per_class": PER_CLASS})
    assert _cells(styler)[:4] == ["90.0%", "95.0%", "92.0%", "1,000"]
    assert _highlighted_rows(styler) == {"Ankle boot"}  # the lowest F1
    assert styler.data.loc["Trouser", "recall"] == pytest.approx(0.94)  # numbers stay numbers


def test_history_from_a_mapping_and_from_a_run_folder(tmp_path: Path) -> None:
    history = {
        "loss": [0.9, 0.5, 0.4],
        "accuracy": [0.7, 0.85, 0.9],
        "val_accuracy": [0.8, 0.9, 0.88],
        "lr": [1e-3] * 3,
    }
    styler = tables.history(history)
    assert styler.data.index.tolist() == [1, 2, 3] and styler.data.columns.name == "epoch"
    assert _cells(styler)[:4] == ["0.9000", "70.00%", "80.00%", "1.00e-03"]
    assert _highlighted_rows(styler) == {2}  # the best validation accuracy: the weights kept
    (tmp_path / "history.csv").write_text("epoch,loss,val_loss\n1,0.5,0.6\n2,0.25,0.3\n")
    from_csv = tables.history(tmp_path)
    assert from_csv.data.index.tolist() == [1, 2] and _cells(from_csv) == ["0.5000", "0.6000", "0.2500", "0.3000"]


def test_versions_short_hashes_filtered_and_this_runs_marked() -> None:
    when = datetime(2026, 11, 27, 9, 30, tzinfo=UTC)
    found = [
        PackageVersion("a/model", "m" * 64, when, "model 2"),
        PackageVersion("a/model", "n" * 64, when, "model 1"),
        PackageVersion("a/data", "d" * 64, when, None),
        PackageVersion("other/x", "x" * 64, when, "x", damaged="missing object"),
    ]
    styler = tables.versions(found, names=("a/data", "a/model"), current=("d" * 64, "m" * 64, None), latest=1)
    assert styler.data["top_hash"].tolist() == ["m" * 12, "d" * 12]
    assert styler.data["used"].tolist() == ["this run", "this run"]
    assert styler.data["created"].tolist() == ["2026-11-27 09:30"] * 2 and styler.data["message"].tolist()[1] == ""
    everything = tables.versions(found, current=["x" * 64], current_label="explored here")
    assert everything.data["used"].tolist() == ["", "", "", "explored here"]
    assert len(everything.data) == 4 and everything.data["damaged"].tolist()[-1] == "missing object"


def test_lineage_skips_what_other_tables_show_and_shows_paths_as_a_reader_does() -> None:
    meta = {
        "data": {"name": "a/data", "top_hash": "d" * 64, "registry": str(Path.home() / "reg")},
        "training": {"config": {"epochs": 2, "stages": [[32], [64]]}, "seconds": 12.5},
        "metrics": {
            "test_accuracy": 0.93594,
            "test_accuracy_single_view": 0.9312,
            "test_loss": 0.21234567,
            "per_class": PER_CLASS,
            "confusion_matrix": [[1]],
        },
        "code": {"dirty": None},
    }
    styler = tables.lineage(meta)
    values = styler.data["value"].to_dict()
    assert values["data.registry"] == "~/reg"
    assert values["metrics.test_accuracy"] == "93.59%" and values["metrics.test_loss"] == "0.2123"
    assert values["metrics.test_accuracy_single_view"] == "93.12%"
    assert values["training.config.stages"] == "[[32], [64]]" and values["code.dirty"] == "-"
    assert not any(f.startswith(("metrics.per_class", "metrics.confusion_matrix")) for f in values)
    assert "metrics.per_class.Trouser.recall" in tables.lineage(meta, skip=()).data.index


@pytest.mark.parametrize("scored_with_mirror", [False, True])
def test_lineage_does_not_show_metrics_tta_as_if_no_views_were_averaged(scored_with_mirror: bool) -> None:
    """metrics.tta False (nothing averaged in code at scoring) is no row beside config.tta True; True says what it means."""
    meta = {
        "training": {"config": {"tta": True, "tta_shift": 1}},
        "metrics": {"test_accuracy": 0.9, "tta": scored_with_mirror},
    }
    values = tables.lineage(meta).data["value"].to_dict()
    assert values["training.config.tta"] == "True" and "metrics.tta" not in values
    shown = [f for f in values if "extra mirror" in f]
    assert shown == (
        ["metrics.scored with an extra mirror in code (besides the file's views)"] if scored_with_mirror else []
    )


def test_quality_checks_colour_the_verdicts() -> None:
    from fashion_lib.quality.report import Check, QualityReport

    checks = [Check("leakage", 0.0, 0.0, "pass", "none"), Check("balance", 0.3, 0.2, "fail", "off")]
    styler = tables.quality_checks(QualityReport(checks=checks, reference="official", candidate={}))
    assert styler.data.index.tolist() == ["leakage", "balance"] and styler.data["verdict"].tolist() == ["pass", "fail"]
    html = styler.to_html()
    assert tables.PASS.split(": ")[1] in html and tables.FAIL.split(": ")[1] in html


@pytest.mark.parametrize(
    "config, count", [(TrainConfig(tta=False, tta_shift=0), 1), (TrainConfig(tta_shift=0), 2), (TrainConfig(), 10)]
)
def test_views_lists_each_view_the_shipped_model_averages(config: TrainConfig, count: int) -> None:
    styler = tables.views(config)
    assert len(styler.data) == count and styler.data.iloc[0].tolist() == ["no", 0, 0]


def test_test_scores_one_row_of_headline_numbers() -> None:
    metrics = {"test_accuracy": 0.93594, "test_accuracy_single_view": 0.9312, "test_loss": 0.2, "macro_f1": 0.9355}
    styler = tables.test_scores({**metrics, "misclassified_count": 641, "per_class": PER_CLASS})
    assert list(styler.data.columns)[:2] == ["accuracy (shipped file)", "accuracy (network alone)"]
    assert _cells(styler) == ["93.59%", "93.12%", "0.2000", "93.55%", "641"]
    assert list(tables.test_scores({"test_accuracy": 0.5}).data.columns) == ["accuracy (shipped file)"]


def _header_rows(styler) -> list[list[str]]:
    """The text of each header row as rendered (``<thead>``), blanks as empty strings."""
    styler._compute()
    return [[c["display_value"].replace("&nbsp;", "") for c in row] for row in styler._translate(False, False)["head"]]


def test_every_table_has_one_header_row_with_the_row_labels_named_in_its_corner() -> None:
    """pandas gives a named index a second header row of its own; the notebooks' tables keep one row."""
    from fashion_lib.quality.report import Check, QualityReport

    history = {"loss": [0.9, 0.5], "val_accuracy": [0.8, 0.9]}
    report = QualityReport(checks=[Check("leakage", 0.0, 0.0, "pass", "none")], reference="official", candidate={})
    corners = {
        "class": tables.class_balance({"train": np.arange(10)}),
        "epoch": tables.history(history),
        "field": tables.lineage({"metrics": {"test_accuracy": 0.9}}),
        "check": tables.quality_checks(report),
        "aspect": tables.recipe(TrainConfig()),
        "view": tables.views(TrainConfig()),
    }
    for corner, styler in corners.items():
        rows = _header_rows(styler)
        assert len(rows) == 1 and rows[0][0] == corner, (corner, rows)
    assert _header_rows(tables.recipe(TrainConfig())) == [["aspect", "recipe"]]
