"""A model that scored at chance level says so: ``fashion train`` (``run``, train.ipynb's ``assess``) and
``fashion model push`` print one warning line on stderr when the test accuracy is at most 1.5 times
what always guessing the commonest class scores, or every image got one class, and still publish,
recording nothing about it. Before, a 10.00 % model was pushed without a word. The rule on matrices,
then a real CLI training on real Fashion-MNIST rows, in a real registry, that learns nothing (a
learning rate of 1e-12: the network stays as it was initialised)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from cli_support import cli

from fashion_lib import registry, settings
from fashion_lib.classes import CLASS_NAMES
from fashion_lib.csvio import write_csv
from fashion_lib.evaluate import chance_warning
from fashion_lib.idx import load_images, load_labels
from fashion_lib.sources import find_in

LEARNED_NOTHING = "this model has learned nothing: train longer or on more data"


def _confusion(correct: int, per_class: int = 100) -> np.ndarray:
    """A balanced test set's matrix: ``correct`` images of each class right, the others taken for the next class."""
    matrix = np.zeros((10, 10), int)
    for label in range(10):
        matrix[label, label], matrix[label, (label + 1) % 10] = correct, per_class - correct
    return matrix


def test_the_rule_on_confusion_matrices() -> None:
    one_class = np.zeros((10, 10), int)
    one_class[:, 7] = 100  # every image called a Sneaker
    assert chance_warning(one_class) == (
        f"warning: test accuracy 10.0 % is chance level (every image predicted as Sneaker); {LEARNED_NOTHING}"
    )
    assert chance_warning(_confusion(10).tolist()) == (  # metrics.json's lists, as model push reads them
        f"warning: test accuracy 10.0 % is chance level (always guessing one class scores 10.0 %); {LEARNED_NOTHING}"
    )
    assert chance_warning(_confusion(15)) is not None  # 15 %: 1.5 times chance
    assert chance_warning(_confusion(16)) is None
    assert chance_warning(_confusion(93)) is None
    assert chance_warning(_confusion(25)) is None
    unbalanced = _confusion(25)
    unbalanced[0] *= 2  # 1,100 images of which 200 T-shirts: guessing T-shirt scores 18.2 %, 25 % is chance
    assert "test accuracy 25.0 % is chance level (always guessing one class scores 18.2 %)" in chance_warning(
        unbalanced
    )
    for nothing in (None, "x", [[1, 2], [3, 4]], np.zeros((10, 10)), -_confusion(10), [["a"] * 10] * 10):
        assert chance_warning(nothing) is None  # a run folder's metrics.json may hold anything


RAW = find_in(settings.DEBIAN_DATASET_DIR)


@pytest.mark.slow  # a real training (TensorFlow's import and one short epoch)
@pytest.mark.skipif(RAW is None, reason="Debian package dataset-fashion-mnist is not installed")
def test_a_chance_level_model_is_published_with_one_warning_line(tmp_path: Path) -> None:
    images, labels = load_images(RAW["t10k-images-idx3-ubyte"]), load_labels(RAW["t10k-labels-idx1-ubyte"])
    train = write_csv(images[:2000], labels[:2000], tmp_path / "train.csv")
    test = write_csv(images[5000:6000], labels[5000:6000], tmp_path / "test.csv")
    reg, run, env = tmp_path / "registry", tmp_path / "run", {"FASHION_HOME": str(tmp_path / "home")}
    where = ("--registry", str(reg))
    assert (
        cli("data", "push", "--name", "t/data", "--train", str(train), "--test", str(test), *where, **env).returncode
        == 0
    )
    done = cli(
        "train",
        *("--data-package", "t/data", "--preset", "quick", "--epochs", "1", "--set", "limit=2000"),
        *("--set", "learning_rate=1e-12", "--push", "--output-dir", str(run), *where),
        **env,
    )
    assert done.returncode == 0, done.stderr
    warnings = [line for line in done.stderr.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1 and warnings[0].endswith(LEARNED_NOTHING), done.stderr
    metrics = json.loads((run / "metrics.json").read_text())
    assert warnings[0].startswith(f"warning: test accuracy {metrics['test_accuracy'] * 100:.1f} % is chance level (")
    assert metrics["test_accuracy"] <= 0.15
    lines = done.stderr.splitlines()  # right after the per-class scores it is about
    assert lines[lines.index(warnings[0]) - 1].startswith(CLASS_NAMES[-1])
    published = registry.resolve_top_hash("fashion-mnist/model", None, registry=str(reg))
    assert f"model top hash: {published}" in done.stdout  # published all the same
    _, meta, _ = registry.read_meta("fashion-mnist/model", registry=str(reg), top_hash=published)
    for recorded in (json.dumps(meta), (run / "metrics.json").read_text()):
        assert "learned nothing" not in recorded and "chance level" not in recorded  # said, never recorded

    pushed = cli("model", "push", str(run), "--model-package", "t/model", *where, **env)
    assert pushed.returncode == 0, pushed.stderr
    assert pushed.stderr.splitlines()[-1] == warnings[0]  # said once published
