"""A run that will publish to a local registry it can't write is refused before training, with the line and
exit 6 ``data prepare`` gives (``fashion train --push``, ``fashion run``: before, a full training, then that
line). A real registry folder made read-only for real (``chmod``, or a read-only bind mount as root), the
real ``fashion`` command on real Fashion-MNIST rows."""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_support import cli, one_line
from readonly_support import read_only
from test_publish_unwritable import RAW, denied

from fashion_lib.csvio import write_csv
from fashion_lib.idx import load_images, load_labels

pytestmark = pytest.mark.skipif(RAW is None, reason="Debian package dataset-fashion-mnist is not installed")
DATA = "t/data"
QUICK = ("--preset", "quick", "--epochs", "1", "--limit", "2000")


@pytest.fixture(scope="module")
def with_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A registry holding ``t/data``: 2,000 training and 1,000 test rows of the official test file."""
    folder = tmp_path_factory.mktemp("with-data")
    images, labels = load_images(RAW["t10k-images-idx3-ubyte"]), load_labels(RAW["t10k-labels-idx1-ubyte"])
    train = write_csv(images[:2000], labels[:2000], folder / "train.csv")
    test = write_csv(images[5000:6000], labels[5000:6000], folder / "test.csv")
    reg = folder / "registry"
    pushed = cli(
        *("data", "push", "--name", DATA, "--registry", str(reg), "--train", str(train), "--test", str(test)),
        FASHION_HOME=str(folder / "home"),
    )
    assert pushed.returncode == 0, pushed.stderr
    return reg


@pytest.mark.parametrize("command", [("train", "--push"), ("run",)], ids=["train-push", "run"])
def test_a_run_that_would_publish_to_a_read_only_registry_is_refused_before_training(
    with_data: Path, tmp_path: Path, command: tuple[str, ...]
) -> None:
    before = sorted(p.relative_to(with_data) for p in with_data.rglob("*"))
    outputs = tmp_path / "outputs"
    with read_only(with_data):
        done = cli(
            *command,
            *QUICK,
            *("--registry", str(with_data), "--data-package", DATA),
            FASHION_HOME=str(tmp_path / "home"),
            FASHION_OUTPUT_DIR=str(outputs),
        )
    assert done.returncode == 6, done.stderr
    assert one_line(done).startswith(denied(with_data, "fashion-mnist/model")), done.stderr
    assert "epoch" not in done.stderr.lower() and done.stdout == ""  # nothing trained ('training on ...'), no scores
    assert not outputs.exists() or list(outputs.iterdir()) == []  # no run folder left
    assert sorted(p.relative_to(with_data) for p in with_data.rglob("*")) == before
