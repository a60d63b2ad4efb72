"""A full disk, for real: the registry, the fetch destination and the home folder on a small tmpfs.

Each command that runs out of space says so in one line naming the place, exits non-zero, and
leaves nothing half-written: the registry keeps exactly the versions it had (they still verify),
no temporary file stays behind, and the space the failed write took is given back.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from fashion_lib import csvio, idx, registry, settings
from fashion_lib.sources import find_in
from tests.cli_support import cli

pytestmark = pytest.mark.skipif(
    find_in(settings.DEBIAN_DATASET_DIR) is None, reason="Debian package dataset-fashion-mnist is not installed"
)
NAME = "fashion-mnist/data"
MiB = 1024 * 1024


@pytest.fixture(scope="module")
def csvs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Real Fashion-MNIST rows: two small packages' worth of train/test CSVs (about 2 and 4 MB)."""
    raw = settings.DEBIAN_DATASET_DIR
    images = idx.load_images(raw / "t10k-images-idx3-ubyte.gz")
    labels = idx.load_labels(raw / "t10k-labels-idx1-ubyte.gz")
    folder = tmp_path_factory.mktemp("csvs")
    spans = {"a_train": (0, 1000), "a_test": (1000, 1500), "b_train": (2000, 4000), "b_test": (4000, 5000)}
    return {k: csvio.write_csv(images[a:b], labels[a:b], folder / f"{k}.csv") for k, (a, b) in spans.items()}


def error_line(done: subprocess.CompletedProcess) -> str:
    """The one ``fashion: error`` line of a failed command (reports before it aside)."""
    assert done.returncode != 0, done.stderr
    lines = [line for line in done.stderr.splitlines() if line.startswith("fashion:")]
    assert len(lines) == 1, done.stderr
    return lines[0]


def _used(folder: Path) -> int:
    stat = os.statvfs(folder)
    return (stat.f_blocks - stat.f_bfree) * stat.f_frsize


def _files(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()}


def _push(reg: Path, csvs: dict[str, Path], which: str) -> subprocess.CompletedProcess:
    return cli(
        "data", "push", "--registry", str(reg), "--train", str(csvs[f"{which}_train"]),
        "--test", str(csvs[f"{which}_test"]), "-m", which, "--accept", "a small test subset",
    )  # fmt: skip


def test_push_onto_a_full_registry_disk_is_one_line_and_keeps_the_registry_whole(small_disk, csvs, tmp_path):
    disk = small_disk("registry-disk", 5 * MiB)  # package a (~2.3 MB) fits, package b (~4.5 MB) does not
    reg = disk / "registry"
    first = _push(reg, csvs, "a")
    assert first.returncode == 0, first.stderr
    kept = registry.list_versions(registry=str(reg), name=NAME)
    files, used = _files(reg), _used(disk)

    full = _push(reg, csvs, "b")
    line = error_line(full)
    assert "disk" in line and "full" in line and str(reg) in line, line
    assert "nothing was half-written" in line
    assert registry.list_versions(registry=str(reg), name=NAME) == kept  # no new version, none lost
    assert _files(reg) == files  # no temporary or orphaned object left behind
    assert _used(disk) == used  # and the space is given back
    fetched = registry.fetch(NAME, tmp_path / "a", registry=str(reg))  # the old version still verifies
    assert (tmp_path / "a" / "fashion-mnist_train.csv").read_bytes() == csvs["a_train"].read_bytes()
    assert fetched


def test_fetch_into_a_full_destination_names_it_and_leaves_no_partial_file(small_disk, csvs, tmp_path):
    reg = tmp_path / "registry"
    assert _push(reg, csvs, "b").returncode == 0
    dest = small_disk("dest-disk", 1 * MiB) / "data"

    full = cli("data", "fetch", "--registry", str(reg), "--dest", str(dest))
    line = error_line(full)
    assert str(dest) in line and "disk is full" in line, line
    assert not [p for p in dest.rglob("*") if p.is_file() and p.stat().st_size], sorted(dest.rglob("*"))


def test_prepare_with_a_full_home_folder_names_the_home_folder(small_disk):
    home = small_disk("home-disk", 1 * MiB)  # the raw files are read from Debian's package; the CSVs can't be written

    full = cli("data", "prepare", FASHION_HOME=str(home), FASHION_REGISTRY="")
    line = error_line(full)
    assert "disk is full" in line and "home folder" in line and "FASHION_HOME" in line, line
    assert not [p for p in home.rglob("*.csv*") if p.is_file()], sorted(home.rglob("*"))
