"""``--json`` for scripts: one JSON document on stdout, the same exit codes as the text output."""

from __future__ import annotations

import json
from pathlib import Path

import hostile
import numpy as np
import pytest

from fashion_lib import registry
from fashion_lib.cli import main
from fashion_lib.csvio import write_csv
from fashion_lib.lineage import lineage_from_metrics

MODEL = "fashion-mnist/model"


def run_json(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, object]:
    code = main(list(args))
    out = capsys.readouterr().out
    return code, json.loads(out)  # one document: json.loads refuses anything around it


@pytest.fixture
def reg(tmp_path: Path) -> str:
    """A registry with two versions of a model package, the second with a lineage."""
    where = str(tmp_path / "registry")
    (tmp_path / "clf.keras").write_bytes(b"weights one")
    registry.push(MODEL, {"clf.keras": tmp_path / "clf.keras"}, registry=where, message="first")
    (tmp_path / "clf.keras").write_bytes(b"weights two")
    metrics = {
        "data_package": "fashion-mnist/data",
        "data_top_hash": "d" * 64,
        "data_registry": where,
        "test_accuracy": 0.9,
        "test_loss": 0.3,
        "started": "2026-01-01T00:00:00+00:00",
        "finished": "2026-01-01T00:01:00+00:00",
        "epochs_run": 2,
        "train_seconds": 60.0,
    }
    registry.push(
        MODEL,
        {"clf.keras": tmp_path / "clf.keras"},
        registry=where,
        message="second",
        meta=lineage_from_metrics(metrics, {"epochs": 2}),
    )
    return where


def test_packages_list_json(reg: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, doc = run_json(capsys, "packages", "list", "--json", "--registry", reg)
    assert code == 0
    assert [(v["name"], v["message"], v["damaged"]) for v in doc["versions"]] == [
        (MODEL, "second", None),
        (MODEL, "first", None),
    ]
    assert all(len(v["top_hash"]) == 64 for v in doc["versions"]) and reg in doc["registry"]


def test_damaged_version_keeps_exit_3_with_json(reg: str, capsys: pytest.CaptureFixture[str]) -> None:
    latest = registry.resolve_top_hash(MODEL, None, registry=reg)
    path = hostile.manifest_path(reg, latest)
    path.write_text("".join(path.read_text().splitlines(keepends=True)[:-1]))
    code, doc = run_json(capsys, "packages", "list", "--json", "--registry", reg)
    assert code == 3 and [v["top_hash"] for v in doc["versions"] if v["damaged"]] == [latest]
    code, doc = run_json(capsys, "packages", "verify", "--json", "--registry", reg)
    assert code == 3 and doc["ok"] is False and any(latest[:7] in p for p in doc["problems"])


def test_packages_verify_json(reg: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, doc = run_json(capsys, "packages", "verify", "--json", "--registry", reg)
    assert code == 0 and doc["ok"] is True and doc["problems"] == [] and doc["versions"] == 2


def test_lineage_json(reg: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, doc = run_json(capsys, "lineage", "--json", "--registry", reg)
    _, meta, _ = registry.read_meta(MODEL, registry=reg)
    assert code == 0 and doc["name"] == MODEL and doc["lineage"] == json.loads(json.dumps(meta))
    assert doc["lineage"]["metrics"] == {"test_accuracy": 0.9, "test_loss": 0.3}  # run keys are not scores
    assert doc["lineage"]["training"]["epochs_run"] == 2


def test_lineage_json_error_prints_no_document(reg: str, capsys: pytest.CaptureFixture[str]) -> None:
    first = registry.list_versions(registry=reg)[-1].top_hash  # published without a lineage
    assert main(["lineage", first, "--json", "--registry", reg]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and "has no usable lineage" in captured.err


def test_data_check_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A tiny, all-black data set fails the quality checks: exit 1, and the report is one document."""
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(10, dtype=np.uint8), 20)
    train = write_csv(rng.integers(0, 256, (200, 28, 28), dtype=np.uint8), labels, tmp_path / "train.csv")
    test = write_csv(np.zeros((200, 28, 28), dtype=np.uint8), labels, tmp_path / "test.csv")
    code, doc = run_json(
        capsys,
        "data",
        "check",
        "--train",
        str(train),
        "--test",
        str(test),
        "--json",
        "--registry",
        str(tmp_path / "registry"),
    )
    assert code == 1 and doc["verdict"] == "fail"
    assert {c["name"] for c in doc["checks"] if c["verdict"] == "fail"}


def test_json_file_through_a_symbolic_link_keeps_the_link(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """``--json FILE`` where FILE links elsewhere writes the link's target, as ``>`` would."""
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(10, dtype=np.uint8), 20)
    train = write_csv(rng.integers(0, 256, (200, 28, 28), dtype=np.uint8), labels, tmp_path / "train.csv")
    test = write_csv(rng.integers(0, 256, (200, 28, 28), dtype=np.uint8), labels, tmp_path / "test.csv")
    (tmp_path / "reports").mkdir()
    (tmp_path / "reports" / "check.json").write_text("old report")
    (tmp_path / "latest.json").symlink_to(tmp_path / "reports" / "check.json")
    argv = ["data", "check", "--train", str(train), "--test", str(test), "--registry", str(tmp_path / "registry")]
    main([*argv, "--json", str(tmp_path / "latest.json")])
    capsys.readouterr()
    assert (tmp_path / "latest.json").is_symlink()
    assert json.loads((tmp_path / "reports" / "check.json").read_text())["verdict"] in ("pass", "fail")
    assert sorted(p.name for p in (tmp_path / "reports").iterdir()) == ["check.json"]  # no temporary left
