"""The data-quality circuit breaker inside the pipeline: `fashion data check`, `data push`, training."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from fashion_lib import data, registry, settings
from fashion_lib.errors import IntegrityError, QualityError
from fashion_lib.quality import gate
from fashion_lib.sources import find_in

RAW = find_in(settings.DEBIAN_DATASET_DIR)
pytestmark = [
    pytest.mark.slow,  # four publishes and three checks of the full data, in subprocesses
    pytest.mark.skipif(RAW is None, reason="Debian package dataset-fashion-mnist is not installed"),
]
NAME = settings.DEFAULT_DATA_PACKAGE


def fashion(*args: str, home: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "FASHION_HOME": str(home), "QUILT_MINIMIZE_STDOUT": "true", "CI": "1"}
    env.pop("FASHION_REGISTRY", None)
    return subprocess.run(
        [sys.executable, "-m", "fashion_lib", *args], env=env, capture_output=True, text=True, timeout=600
    )


@pytest.fixture(scope="module")
def csvs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The official CSVs, and a training CSV with 0.5 % of the test rows copied in (50 rows)."""
    folder = tmp_path_factory.mktemp("csvs")
    official = data.convert(RAW, folder, log=lambda m: None)
    train = official["train"].read_text().splitlines(keepends=True)
    test = official["test"].read_text().splitlines(keepends=True)
    train[1:51] = test[1:51]
    leaked = folder / "leaked_train.csv"
    leaked.write_text("".join(train))
    return {**official, "leaked": leaked}


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("home")


@pytest.fixture(scope="module")
def published(csvs: dict[str, Path], home: Path) -> dict[str, str]:
    """A registry with the official version, then the leaked one published with --accept."""
    reg = str(home / "registry")
    refused = fashion("data", "push", "--train", str(csvs["leaked"]), "--test", str(csvs["test"]), home=home)
    first = fashion("data", "push", "--train", str(csvs["train"]), "--test", str(csvs["test"]), home=home)
    again = fashion("data", "push", "--train", str(csvs["train"]), "--test", str(csvs["test"]), home=home)
    accepted = fashion(
        "data",
        "push",
        "--train",
        str(csvs["leaked"]),
        "--test",
        str(csvs["test"]),
        "--accept",
        "augmentation  test on purpose",
        home=home,
    )
    return {"registry": reg, "refused": refused, "first": first, "again": again, "accepted": accepted}


def _top(run: subprocess.CompletedProcess) -> str:
    assert run.returncode == 0, run.stderr
    return run.stdout.split("top hash: ")[1].split()[0]


def test_check_passes_the_official_csvs(csvs: dict[str, Path], tmp_path: Path) -> None:
    run = fashion(
        "data",
        "check",
        "--train",
        str(csvs["train"]),
        "--test",
        str(csvs["test"]),
        "--json",
        str(tmp_path / "report.json"),
        home=tmp_path,
    )
    assert run.returncode == 0, run.stderr
    assert "Data quality against official Fashion-MNIST" in run.stdout and ": PASS" in run.stdout
    for check in ("leakage train/test", "class balance (test)", "drift (train)", "label sanity (test)"):
        assert check in run.stdout
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["verdict"] == "pass" and len(report["checks"]) == 12


def test_check_fails_leaked_csvs_with_one_line_per_failure(csvs: dict[str, Path], tmp_path: Path) -> None:
    run = fashion("data", "check", "--train", str(csvs["leaked"]), "--test", str(csvs["test"]), home=tmp_path)
    assert run.returncode == 1
    errors = run.stderr[run.stderr.index("fashion: error:") :].splitlines()
    assert errors[0].startswith("fashion: error: leaked_train.csv + fashion-mnist_test.csv failed 1 data-quality")
    assert errors[1:] == [next(line for line in errors[1:] if line.startswith("  leakage train/test: 0.83 %"))]
    assert "(50 exact" in errors[1] and "Traceback" not in run.stderr
    assert "leakage train/test" in run.stdout and "FAIL" in run.stdout


def test_check_needs_both_csvs_or_a_version(tmp_path: Path) -> None:
    run = fashion("data", "check", "--train", "x.csv", home=tmp_path)
    assert run.returncode == 2 and run.stderr.count("\n") == 1 and "--test CSV" in run.stderr


def test_push_refuses_damaged_data_and_publishes_nothing(published: dict) -> None:
    refused = published["refused"]
    assert refused.returncode == 1
    assert "leakage train/test: 0.83 %" in refused.stderr and "--accept" in refused.stderr
    versions = registry.list_versions(registry=published["registry"], name=NAME)
    assert len(versions) == 2  # the official one and the accepted one; nothing from the refused push


def test_push_stores_the_report_and_republishing_is_a_no_op(published: dict, tmp_path: Path) -> None:
    top = _top(published["first"])
    assert _top(published["again"]) == top and "already" in published["again"].stderr
    assert "Data quality" not in published["again"].stderr  # no new check
    fetched = registry.fetch(NAME, tmp_path / "v1", registry=published["registry"], top_hash=top)
    stored = json.loads(fetched.files["quality.json"].read_text())
    assert stored["verdict"] == "pass" and stored["accepted"] is None
    assert stored["reference"].startswith("official Fashion-MNIST")
    meta = fetched.meta["quality"]
    assert meta["checks"] == stored["checks"] and meta["candidate"] == stored["candidate"]


def test_accept_records_reason_and_report(published: dict) -> None:
    top = _top(published["accepted"])
    assert "accepted: augmentation test on purpose" in published["accepted"].stderr
    _, meta, _ = registry.read_meta(NAME, registry=published["registry"], top_hash=top)
    quality = meta["quality"]
    assert quality["verdict"] == "fail" and quality["accepted"] == "augmentation test on purpose"
    failed = [c["name"] for c in quality["checks"] if c["verdict"] == "fail"]
    assert failed == ["leakage train/test"]
    # ... it was compared with the official version, and never becomes a reference itself
    assert quality["reference"] == f"{NAME}@{_top(published['first'])[:12]}"
    ref = gate.reference_profile(NAME, registry=published["registry"])
    assert ref.source == f"{NAME}@{_top(published['first'])[:12]}"


def test_check_of_the_latest_version_compares_with_the_last_good_one(published: dict, home: Path) -> None:
    run = fashion("data", "check", home=home)
    assert run.returncode == 1
    assert f"against {NAME}@{_top(published['first'])[:12]}" in run.stdout
    assert f"{NAME}@{_top(published['accepted'])[:12]} failed 1 data-quality check" in run.stderr


def test_training_trusts_the_stored_report(published: dict, monkeypatch: pytest.MonkeyPatch, home: Path) -> None:
    monkeypatch.setenv("FASHION_HOME", str(home))
    messages: list[str] = []
    version = data.load_data(registry=published["registry"], top_hash=_top(published["accepted"]))
    report = gate.ensure_quality(version, log=messages.append)
    assert report.accepted == "augmentation test on purpose"
    assert messages == [
        f"Data quality: fail (12 checks against {NAME}@{_top(published['first'])[:12]}, stored with "
        f"{NAME}@{_top(published['accepted'])[:12]}; accepted: augmentation test on purpose)"
    ]
    good = data.load_data(registry=published["registry"], top_hash=_top(published["first"]))
    swapped = dataclasses.replace(version, files={**version.files, "quality.json": good.files["quality.json"]})
    with pytest.raises(IntegrityError, match="quality.json in .* describes other data than the package's CSVs"):
        gate.ensure_quality(swapped, log=messages.append)


def test_training_refuses_a_version_published_around_the_breaker(
    csvs: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from fashion_lib.config import TrainConfig
    from fashion_lib.pipeline import prepare_run

    monkeypatch.setenv("FASHION_HOME", str(tmp_path))
    reg = str(tmp_path / "reg")
    registry.push(NAME, {settings.TRAIN_CSV: csvs["leaked"], settings.TEST_CSV: csvs["test"]}, registry=reg)
    with pytest.raises(QualityError, match="failed 1 data-quality check.*\n  leakage train/test"):
        prepare_run(TrainConfig.from_preset("quick"), registry=reg, output_dir=tmp_path / "run")
