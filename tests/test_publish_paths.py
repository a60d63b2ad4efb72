"""One finished run, one top hash: ``pipeline.publish`` (``fashion run``, train.ipynb) and
``fashion model push`` of the same run folder publish the same version.

A tiny real run (as in test_run_reuse: random images, one epoch) through the library's steps; real
registries on disk. The same through the ``fashion`` command, on the real data: test_pipeline's
``test_model_push_of_a_finished_run``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from test_run_reuse import MODEL, tiny_setup

from fashion_lib import pipeline, registry
from fashion_lib.classes import CLASS_NAMES
from fashion_lib.config import TrainConfig
from fashion_lib.runfolder import README_FILE


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
