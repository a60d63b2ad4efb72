"""The main data job on real Fashion-MNIST: prepare, re-prepare, fetch, load, refuse bad data."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from fashion_lib import data, registry, settings
from fashion_lib.errors import DataValidationError, IntegrityError
from fashion_lib.sources import find_in

pytestmark = [
    pytest.mark.slow,  # converts and publishes the real 70,000 images (~20 s setup)
    pytest.mark.skipif(
        find_in(settings.DEBIAN_DATASET_DIR) is None, reason="Debian package dataset-fashion-mnist is not installed"
    ),
]


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("home")


@pytest.fixture(scope="module")
def prepared(home: Path) -> data.PreparedData:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("FASHION_HOME", str(home))
        mp.delenv("FASHION_REGISTRY", raising=False)
        return data.prepare_data(log=lambda m: None)


def test_prepare_publishes_verified_package(prepared: data.PreparedData, home: Path) -> None:
    assert prepared.registry == str(home / "registry")
    assert len(prepared.top_hash) == 64
    assert prepared.reports["train"].rows == 60000 and prepared.reports["test"].rows == 10000
    top_hash, meta, _ = registry.read_meta(prepared.name, registry=prepared.registry)
    assert top_hash == prepared.top_hash
    assert meta["rows"] == {"fashion-mnist_train.csv": 60000, "fashion-mnist_test.csv": 10000}
    assert meta["source"]["sha256"]["train-labels-idx1-ubyte"].startswith("bad3541b")


def test_cli_prepare_again_gives_same_top_hash(prepared: data.PreparedData, home: Path) -> None:
    env = {**__import__("os").environ, "FASHION_HOME": str(home), "QUILT_MINIMIZE_STDOUT": "true"}
    env.pop("FASHION_REGISTRY", None)
    run = subprocess.run(
        [sys.executable, "-m", "fashion_lib", "data", "prepare"], env=env, capture_output=True, text=True, timeout=300
    )
    assert run.returncode == 0, run.stderr
    assert f"top hash: {prepared.top_hash}" in run.stdout
    assert "Writing" not in run.stderr  # the CSVs were reused, not rewritten
    versions = registry.list_versions(registry=prepared.registry, name=prepared.name)
    assert [v.top_hash for v in versions] == [prepared.top_hash]


def test_prepare_after_a_hand_edit_of_a_csv_publishes_the_official_data(
    prepared: data.PreparedData, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Before, a CSV edited in place (one test label 9 -> 3, same size) was reused and published as a
    new version (f1af343b34df), its manifest still naming the upstream IDX files as the source."""
    csv = prepared.csvs["test"]
    content = bytearray(csv.read_bytes())
    content[content.index(b"\n9,") + 1] = ord("3")
    csv.write_bytes(bytes(content))
    monkeypatch.setenv("FASHION_HOME", str(home))
    said: list[str] = []
    again = data.prepare_data(log=said.append)
    assert again.top_hash == prepared.top_hash and not again.added
    assert [line for line in said if line.startswith("Writing")] == [f"Writing {settings.display_path(csv)} ..."]


def test_load_data_returns_both_splits(
    prepared: data.PreparedData, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FASHION_HOME", str(home))
    loaded = data.load_data(registry=prepared.registry)
    train, test = loaded.train, loaded.test
    assert loaded.top_hash == prepared.top_hash and loaded.meta["rows"]["fashion-mnist_test.csv"] == 10000
    assert train.images.shape == (60000, 28, 28) and test.images.shape == (10000, 28, 28)
    assert np.bincount(test.labels).tolist() == [1000] * 10


def test_publishing_bad_csv_is_refused(prepared: data.PreparedData, tmp_path: Path) -> None:
    bad = tmp_path / "fashion-mnist_test.csv"
    lines = prepared.csvs["test"].read_text().splitlines()
    lines[5000] = lines[5000].replace(",", ",x", 1)
    bad.write_text("\n".join(lines) + "\n")
    registry_dir = tmp_path / "reg"
    with pytest.raises(DataValidationError, match=r"fashion-mnist_test\.csv: line 5001, column pixel1: 'x"):
        data.publish_csvs({"train": prepared.csvs["train"], "test": bad}, registry=str(registry_dir))
    assert not list(registry_dir.glob("**/*.csv"))


def test_source_edit_after_publish_does_not_change_package(prepared: data.PreparedData, tmp_path: Path) -> None:
    csv = tmp_path / "fashion-mnist_test.csv"
    csv.write_bytes(prepared.csvs["test"].read_bytes())
    reg = str(tmp_path / "reg")
    top = data.publish_csvs({"train": prepared.csvs["train"], "test": csv}, registry=reg, log=lambda m: None).top_hash
    csv.write_bytes(csv.read_bytes().replace(b"\n0,", b"\n1,", 1))  # edit the source afterwards
    fetched = registry.fetch(prepared.name, tmp_path / "out", registry=reg, top_hash=top)
    assert fetched.files["fashion-mnist_test.csv"].read_bytes() == prepared.csvs["test"].read_bytes()


def test_tampered_registry_copy_is_detected(prepared: data.PreparedData, tmp_path: Path) -> None:
    reg = tmp_path / "reg"
    small = {"train": prepared.csvs["test"], "test": prepared.csvs["test"]}
    top = registry.push("t/data", {p.name: p for p in small.values()}, registry=str(reg))
    victims = [p for p in reg.rglob("*") if p.is_file() and p.stat().st_size == prepared.csvs["test"].stat().st_size]
    assert victims, "the local registry must hold its own copy of the data"
    content = bytearray(victims[0].read_bytes())
    content[-3] = ord("9") if content[-3] != ord("9") else ord("8")
    victims[0].write_bytes(bytes(content))
    with pytest.raises(IntegrityError, match="fashion-mnist_test.csv"):
        registry.fetch("t/data", tmp_path / "out", registry=str(reg), top_hash=top)
    assert not (tmp_path / "out" / "fashion-mnist_test.csv").exists()


def test_push_of_custom_named_subset_loads_with_its_recorded_rows(
    prepared: data.PreparedData, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lines = prepared.csvs["test"].read_text().splitlines()
    (tmp_path / "my_train.csv").write_text("\n".join(lines[:2001]) + "\n")
    (tmp_path / "my_test.csv").write_text("\n".join(lines[:1] + lines[5001:6001]) + "\n")
    reg = str(tmp_path / "reg")
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "fashion_lib",
            "data",
            "push",
            "--registry",
            reg,
            "--train",
            str(tmp_path / "my_train.csv"),
            "--test",
            str(tmp_path / "my_test.csv"),
            "-m",
            "a subset",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr
    monkeypatch.setenv("FASHION_HOME", str(tmp_path / "home"))
    loaded = data.load_data(registry=reg)
    assert len(loaded.train) == 2000 and len(loaded.test) == 1000
    assert sorted(loaded.files) == ["README.md", "fashion-mnist_test.csv", "fashion-mnist_train.csv", "quality.json"]
    assert loaded.meta["quality"]["verdict"] != "fail"  # a 2,000 + 1,000 subset is no damage
    assert loaded.meta["rows"] == {"fashion-mnist_train.csv": 2000, "fashion-mnist_test.csv": 1000}
