"""``fashion data push`` (and ``data prepare``) say "Published" only when a version was added; data
that already is a version says "Already published", never both. Real Fashion-MNIST rows (a small
subset, from Debian's dataset-fashion-mnist), a real registry folder, the command as a user runs it."""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_support import cli

from fashion_lib import registry, settings
from fashion_lib.csvio import write_csv
from fashion_lib.idx import load_images, load_labels
from fashion_lib.sources import find_in

RAW = find_in(settings.DEBIAN_DATASET_DIR)
pytestmark = pytest.mark.skipif(RAW is None, reason="Debian package dataset-fashion-mnist is not installed")
NAME = "t/data"


@pytest.fixture(scope="module")
def csvs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """2,000 training and 1,000 test rows of the official test file (a subset the checks pass)."""
    folder = tmp_path_factory.mktemp("csvs")
    images, labels = load_images(RAW["t10k-images-idx3-ubyte"]), load_labels(RAW["t10k-labels-idx1-ubyte"])
    return {
        "train": write_csv(images[:2000], labels[:2000], folder / "my_train.csv"),
        "test": write_csv(images[5000:6000], labels[5000:6000], folder / "my_test.csv"),
    }


def test_pushing_the_same_data_again_says_already_published(csvs: dict[str, Path], tmp_path: Path) -> None:
    reg = str(tmp_path / "registry")
    args = (
        "data",
        "push",
        "--name",
        NAME,
        "--registry",
        reg,
        "--train",
        str(csvs["train"]),
        "--test",
        str(csvs["test"]),
    )
    first = cli(*args, FASHION_HOME=str(tmp_path / "home"))
    assert first.returncode == 0, first.stderr
    top_hash = registry.resolve_top_hash(NAME, None, registry=reg)
    assert first.stdout.splitlines() == [f"Published {NAME}@{top_hash[:12]} to {reg}", f"top hash: {top_hash}"]
    again = cli(*args, FASHION_HOME=str(tmp_path / "home"))
    assert again.returncode == 0, again.stderr
    assert f"This data is already {NAME}@{top_hash[:12]}" in again.stderr
    assert again.stdout.splitlines() == [f"Already published: {NAME}@{top_hash[:12]} in {reg}", f"top hash: {top_hash}"]
    assert [v.top_hash for v in registry.list_versions(registry=reg, name=NAME)] == [top_hash]
