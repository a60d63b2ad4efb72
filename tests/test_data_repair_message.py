"""Publishing data that already is the latest version, whose files were damaged in the registry,
writes them again (same top hash) and says so: "Repaired NAME@HASH: N files written again", never
"Already published", which is kept for a push that wrote nothing. What a push wrote comes back
from the library (``PreparedData.added`` / ``.repaired``, ``publish.Published``), not from
comparing version pointers. Real registries on disk; objects damaged by hand."""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_support import cli
from csv_support import fashion_csvs

from fashion_lib import data, registry, settings
from fashion_lib.registry.publish import Published, publish

NAME = "t/data"


@pytest.fixture
def csvs(tmp_path: Path) -> dict[str, Path]:
    """Two small CSVs in the Fashion-MNIST layout (every class), published with --accept."""
    return fashion_csvs(tmp_path / "small", 11)


def objects(reg: str, top_hash: str, name: str = NAME) -> dict[str, Path]:
    """Each file of the version -> its object in the registry folder."""
    entries = registry.open(reg).manifest(name, top_hash).entries
    return {entry.key: Path(reg) / "objects" / entry.object_name for entry in entries}


def damage(path: Path) -> None:
    """Other bytes, same size: only a hash tells."""
    with open(path, "r+b") as fh:
        fh.seek(10)
        fh.write(b"9" if fh.read(1) != b"9" else b"8")


def test_data_push_says_repaired_then_already_published(csvs: dict[str, Path], tmp_path: Path) -> None:
    reg = str(tmp_path / "registry")
    args = ["data", "push", "--name", NAME, "--registry", reg, "--accept", "small test data"]
    args += ["--train", str(csvs["train"]), "--test", str(csvs["test"])]
    first = cli(*args)
    assert first.returncode == 0, first.stderr
    top_hash = registry.resolve_top_hash(NAME, None, registry=reg)
    label = f"{NAME}@{top_hash[:12]}"
    assert first.stdout.splitlines() == [f"Published {label} to {reg}", f"top hash: {top_hash}"]
    train = objects(reg, top_hash)["fashion-mnist_train.csv"]
    good = train.read_bytes()
    damage(train)

    again = cli(*args)
    assert again.returncode == 0, again.stderr
    # the registry named as model push names it (registry.describe); before: the bare folder
    repaired = f"Repaired {label}: 1 file written again in local registry {settings.display_path(reg)}"
    assert again.stdout.splitlines() == [repaired, f"top hash: {top_hash}"]
    assert repaired == registry.repaired_line(label, 1, reg)
    assert train.read_bytes() == good
    assert [v.top_hash for v in registry.list_versions(registry=reg, name=NAME)] == [top_hash]

    third = cli(*args)
    assert third.returncode == 0, third.stderr
    assert third.stdout.splitlines() == [f"Already published: {label} in {reg}", f"top hash: {top_hash}"]


def test_publish_csvs_counts_the_files_it_wrote_again(csvs: dict[str, Path], tmp_path: Path) -> None:
    reg = str(tmp_path / "registry")
    push = dict(registry=reg, name=NAME, accept="small test data", log=lambda line: None)
    first = data.publish_csvs(csvs, **push)
    assert (first.added, first.repaired) == (True, 0)
    stored = objects(reg, first.top_hash)
    damage(stored["fashion-mnist_train.csv"])
    stored["fashion-mnist_test.csv"].unlink()
    again = data.publish_csvs(csvs, **push)
    assert (again.top_hash, again.added, again.repaired) == (first.top_hash, False, 2)
    whole = data.publish_csvs(csvs, **push)
    assert (whole.top_hash, whole.added, whole.repaired) == (first.top_hash, False, 0)
    assert registry.verify(registry=reg).problems == []


def test_publish_says_whether_it_added_a_version_and_what_it_wrote(
    sources: dict[str, Path], tmp_path: Path, same_second
) -> None:
    reg = registry.open(str(tmp_path / "registry"))
    first = publish(reg, NAME, sources, message="one")
    assert first == Published(first.top_hash, added=True, written=3)  # two objects and the manifest
    assert publish(reg, NAME, sources, message="one") == Published(first.top_hash, added=False, written=0)
    damage(objects(reg.location, first.top_hash)["train.csv"])
    assert publish(reg, NAME, sources, message="one") == Published(first.top_hash, added=False, written=1)
    second = publish(reg, NAME, sources, message="two")  # same objects, a new manifest
    assert second == Published(second.top_hash, added=True, written=1)
    back = publish(reg, NAME, sources, message="one")  # the first version made the latest again
    assert back == Published(first.top_hash, added=True, written=0)
    assert reg.resolve(NAME) == first.top_hash


def test_a_model_push_of_the_latest_version_says_already_published(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``registry.push`` (what ``fashion model push`` publishes through) says on stderr what the data
    commands say on stdout: a new version says nothing here, the same files again ``Already published``."""
    model = tmp_path / "clf.keras"
    model.write_bytes(b"stand-in bytes: only moved")
    reg = str(tmp_path / "reg")
    top_hash = registry.push("t/model", {"clf.keras": model}, registry=reg)
    assert "Already published" not in capsys.readouterr().err
    assert registry.push("t/model", {"clf.keras": model}, registry=reg) == top_hash
    label = f"t/model@{top_hash[:12]}"
    assert capsys.readouterr().err.strip() == f"Already published: {label} in {registry.describe(reg)}"
