"""``fashion lineage`` of a version whose metadata someone else wrote badly (``registry.push`` with any
meta): what is recorded is shown, a malformed field said to be not readable; never an internal error
(before: AttributeError for ``data.quality="weird"``, TypeError for ``quality.failed=[1, 2]``), never
a bool shown as an accuracy, never a recorded string reported as no metrics at all."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from cli_support import cli

from fashion_lib import registry
from fashion_lib.cli import main
from fashion_lib.lineage import describe

MODEL = "fashion-mnist/model"
GOOD: dict[str, Any] = {
    "data": {"name": "fashion-mnist/data", "top_hash": "d" * 64, "registry": ""},
    "code": {"commit": "a" * 40, "dirty": False, "version": "0.1.0"},
    "training": {"config": {"epochs": 1}, "epochs_run": 1},
    "metrics": {"test_accuracy": 0.9, "test_loss": 0.3},
}
VERDICT = {"verdict": "pass", "reference": "official", "failed": [], "accepted": None}


def _published(tmp_path: Path, part: str, change: dict[str, Any]) -> str:
    """A registry holding one model version whose lineage's ``part`` is updated with ``change``."""
    (tmp_path / "clf.keras").write_bytes(b"weights")
    reg = str(tmp_path / "reg")
    meta = {**GOOD, part: {**GOOD[part], **change}}
    registry.push(MODEL, {"clf.keras": tmp_path / "clf.keras"}, registry=reg, meta=meta)
    return reg


@pytest.mark.parametrize(
    ("part", "change", "shown"),
    [
        ("data", {"quality": "weird"}, "quality   (not readable: 'weird')"),
        (
            "data",
            {"quality": {**VERDICT, "failed": [1, 2]}},
            "quality   pass against official; failed: (not readable: [1, 2])",
        ),
        (
            "data",
            {"quality": {**VERDICT, "failed": "x", "accepted": 5}},
            "failed: (not readable: 'x'); accepted: (not readable: 5)",
        ),
        ("data", {"quality": {"failed": ["drift"]}}, "quality   (not recorded) against (not recorded); failed: drift"),
        ("data", {"quality": ["pass"]}, "quality   (not readable: ['pass'])"),
        ("metrics", {"test_accuracy": True}, "metrics   test accuracy (not readable: True), test loss 0.3000"),
        ("metrics", {"test_accuracy": "high"}, "metrics   test accuracy (not readable: 'high'), test loss 0.3000"),
        ("metrics", {"test_loss": None}, "metrics   test accuracy 0.9000, test loss (not recorded)"),
        ("code", {"dirty": [1]}, f"code      commit {'a' * 40}, fashion_lib 0.1.0"),
    ],
)
def test_a_malformed_field_is_shown_as_not_readable(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], part: str, change: dict[str, Any], shown: str
) -> None:
    reg = _published(tmp_path, part, change)
    assert main(["lineage", "--registry", reg]) == 0
    out = capsys.readouterr().out
    assert shown in out, out
    assert "test accuracy 1.0000" not in out and "metrics   (none recorded)" not in out


def test_a_well_formed_lineage_reads_as_before() -> None:
    text = describe(MODEL, "e" * 64, {**GOOD, "data": {**GOOD["data"], "quality": VERDICT}})
    assert "quality   pass against official\n" in text
    assert text.endswith("metrics   test accuracy 0.9000, test loss 0.3000")
    assert describe(MODEL, "e" * 64, {"metrics": {}}).endswith("metrics   (none recorded)")
    assert describe(MODEL, "e" * 64, {"metrics": "x"}).endswith("metrics   (not readable: 'x')")


def test_the_command_prints_it_and_exits_0(tmp_path: Path) -> None:
    reg = _published(tmp_path, "data", {"quality": {**VERDICT, "failed": [1, 2]}})
    done = cli("lineage", "--registry", reg, FASHION_HOME=str(tmp_path / "home"))
    assert done.returncode == 0 and done.stderr == "", done.stderr
    assert "failed: (not readable: [1, 2])" in done.stdout
