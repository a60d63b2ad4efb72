"""One finished run, one top hash: ``pipeline.publish`` (``fashion run``, train.ipynb) and
``fashion model push`` of the same run folder publish the same version.

A tiny real run (as in test_run_reuse: random images, one epoch) through the library's steps, and
a real quick run on the real data through the ``fashion`` command; real registries on disk.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from test_run_reuse import MODEL, tiny_setup

from fashion_lib import pipeline, registry, settings
from fashion_lib.classes import CLASS_NAMES
from fashion_lib.config import TrainConfig
from fashion_lib.runfolder import README_FILE
from fashion_lib.sources import find_in


@pytest.fixture
def tiny(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> TrainConfig:
    return tiny_setup(tmp_path, monkeypatch)


def _manifest(reg: Path, top_hash: str, name: str = MODEL):
    return registry.open(str(reg)).manifest(name, top_hash)


def test_publish_and_model_push_of_one_run_give_one_top_hash(tiny: TrainConfig, tmp_path: Path) -> None:
    run = pipeline.assess(pipeline.fit(pipeline.prepare_run(tiny, output_dir=tmp_path / "run"), verbose=0))
    published = pipeline.publish(run, registry=str(tmp_path / "a"), name=MODEL)
    pushed = pipeline.push_run_folder(run.output_dir, registry=str(tmp_path / "b"), name=MODEL)
    assert pushed == published
    assert _manifest(tmp_path / "a", published).meta == _manifest(tmp_path / "b", pushed).meta
    # pushed into the registry the run published to: no second version
    assert pipeline.push_run_folder(run.output_dir, registry=str(tmp_path / "a"), name=MODEL) == published
    assert [v.top_hash for v in registry.list_versions(registry=str(tmp_path / "a"), name=MODEL)] == [published]
    # metrics.json keeps its keys sorted; the model card's table follows the labels, not that order
    fetched = registry.fetch(MODEL, tmp_path / "fetched", registry=str(tmp_path / "b"), top_hash=pushed)
    card = Path(fetched.files[README_FILE]).read_text()
    rows = [line.split(" | ")[0].removeprefix("| ") for line in card.splitlines() if line.startswith("| ")][1:]
    assert rows == list(CLASS_NAMES)


def _fashion(*args: str, home: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "FASHION_HOME": str(home), "QUILT_MINIMIZE_STDOUT": "true"}
    env.pop("FASHION_REGISTRY", None)
    done = subprocess.run(
        [sys.executable, "-m", "fashion_lib", *args], env=env, capture_output=True, text=True, timeout=900
    )
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    return done


def _top_hash(stdout: str) -> str:
    return next(line.split(": ", 1)[1] for line in stdout.splitlines() if line.startswith("model top hash: "))


@pytest.mark.slow
@pytest.mark.skipif(
    find_in(settings.DEBIAN_DATASET_DIR) is None, reason="Debian package dataset-fashion-mnist is not installed"
)
def test_fashion_train_push_and_model_push_give_one_top_hash(tmp_path: Path) -> None:
    """The real data (its quality verdict in the lineage), ``fashion train --push``, then
    ``fashion model push`` of its folder into another registry: the same version."""
    home, run_dir = tmp_path / "home", tmp_path / "run"
    quick = ["--preset", "quick", "--limit", "2000", "--epochs", "1"]
    trained = _fashion("train", *quick, "--push", "--output-dir", str(run_dir), home=home)
    other = tmp_path / "other"
    pushed = _fashion("model", "push", str(run_dir), "--registry", str(other), home=home)
    assert _top_hash(pushed.stdout) == _top_hash(trained.stdout)
    meta = _manifest(other, _top_hash(pushed.stdout), settings.DEFAULT_MODEL_PACKAGE).meta
    assert meta["data"]["quality"]["verdict"]  # the data version's verdict, read from its registry
