"""``fashion data prepare`` and ``data push`` to a registry that can't be written say so first: the same
one line and exit 6 the failed push gives, before the raw files are converted and the data checked (a
full conversion and quality check took 15 to 25 s before it failed). A registry that already holds the
data still answers "Already published", as it needs no writing; new data for it is refused before the
quality check. Real Fashion-MNIST rows, real registry folders made read-only for real (``chmod``, or a
read-only bind mount as root), and a path under ``/sys``, which no one, root included, may write."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from cli_support import cli, one_line
from readonly_support import read_only

from fashion_lib import registry, settings
from fashion_lib.csvio import write_csv
from fashion_lib.idx import load_images, load_labels
from fashion_lib.sources import find_in

RAW = find_in(settings.DEBIAN_DATASET_DIR)
pytestmark = pytest.mark.skipif(RAW is None, reason="Debian package dataset-fashion-mnist is not installed")
NAME = "t/data"
UNWRITABLE = Path("/sys/fashion-test-registry")  # sysfs: read-only for everyone, root included


def denied(reg: Path | str, name: str = NAME) -> str:
    return f"fashion: error: publishing {name}: local registry {reg} is not writable or readable by you ("


@pytest.fixture(scope="module")
def csvs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Path]]:
    """Two data sets of 2,000 training and 1,000 test rows of the official test file."""
    folder = tmp_path_factory.mktemp("csvs")
    images, labels = load_images(RAW["t10k-images-idx3-ubyte"]), load_labels(RAW["t10k-labels-idx1-ubyte"])
    return {
        version: {
            "train": write_csv(images[train], labels[train], folder / f"{version}_train.csv"),
            "test": write_csv(images[test], labels[test], folder / f"{version}_test.csv"),
        }
        for version, train, test in (
            ("one", slice(0, 2000), slice(5000, 6000)),
            ("two", slice(2000, 4000), slice(6000, 7000)),
        )
    }


def push(reg: Path | str, files: dict[str, Path], home: Path):
    return cli(
        "data",
        *("push", "--name", NAME, "--registry", str(reg), "--train", str(files["train"]), "--test", str(files["test"])),
        FASHION_HOME=str(home),
    )


def test_prepare_to_an_unwritable_registry_is_refused_before_any_conversion(tmp_path: Path) -> None:
    if os.access("/sys", os.W_OK) and not UNWRITABLE.exists():
        try:
            UNWRITABLE.mkdir()
            UNWRITABLE.rmdir()
            pytest.skip("/sys is writable here")
        except OSError:
            pass
    home = tmp_path / "home"
    env = {"FASHION_HOME": str(home), "FASHION_RAW_DIR": str(settings.DEBIAN_DATASET_DIR)}
    done = cli("data", "prepare", "--registry", str(UNWRITABLE), **env)
    assert done.returncode == 6, done.stderr
    line = one_line(done)  # what the push itself says, after 15 to 25 s of work before
    assert line.startswith(denied(UNWRITABLE, "fashion-mnist/data")), line
    assert line.endswith(f": {UNWRITABLE}); check its permissions, or choose another registry with --registry")
    assert not home.exists()  # no raw file read, no CSV written


def test_push_to_a_read_only_registry_is_refused_before_the_csvs_are_read(
    csvs: dict[str, dict[str, Path]], tmp_path: Path
) -> None:
    reg = tmp_path / "registry"
    reg.mkdir()
    with read_only(reg):
        done = push(reg, csvs["one"], tmp_path / "home")
    assert done.returncode == 6 and one_line(done).startswith(denied(reg)), done.stderr  # no "OK, 2000 rows" first
    assert list(reg.iterdir()) == []


def test_a_read_only_registry_holding_the_data_still_says_already_published(
    csvs: dict[str, dict[str, Path]], tmp_path: Path
) -> None:
    reg, home = tmp_path / "registry", tmp_path / "home"
    assert push(reg, csvs["one"], home).returncode == 0
    top_hash = registry.resolve_top_hash(NAME, None, registry=str(reg))
    before = sorted(str(p.relative_to(reg)) for p in reg.rglob("*"))
    assert not [p for p in before if ".fashion-probe" in p]  # the probe of a writable registry leaves nothing
    with read_only(reg):
        again = push(reg, csvs["one"], home)
        other = push(reg, csvs["two"], home)
    assert again.returncode == 0, again.stderr
    assert again.stdout.splitlines()[0] == f"Already published: {NAME}@{top_hash[:12]} in {reg}"
    assert other.returncode == 6, other.stderr
    lines = other.stderr.splitlines()
    assert lines[-1].startswith(denied(reg)) and all(line.endswith("rows each)") for line in lines[:-1]), lines
    assert "Data quality" not in other.stderr  # refused before the quality check
    assert sorted(str(p.relative_to(reg)) for p in reg.rglob("*")) == before
