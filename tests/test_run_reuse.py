"""A run folder used again: published twice, fitted twice, interrupted and retried.

A tiny real run (random images, one epoch of a four-filter network) through the library's steps,
as train.ipynb calls them, with a real registry on disk; only the data loading is replaced.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from fashion_lib import pipeline, registry, run_steps
from fashion_lib.config import TrainConfig
from fashion_lib.csvio import Dataset
from fashion_lib.data import DataVersion
from fashion_lib.errors import DestinationError
from fashion_lib.runfolder import METRICS_FILE

MODEL = "tiny/model"


def _images(count: int, seed: int) -> Dataset:
    rng = np.random.default_rng(seed)
    return Dataset(rng.integers(0, 256, (count, 28, 28), dtype=np.uint8), np.arange(count, dtype=np.int64) % 10)


@pytest.fixture
def tiny(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> TrainConfig:
    """The data a run loads (200 training, 50 test images) and a config that trains in seconds."""
    monkeypatch.setenv("FASHION_HOME", str(tmp_path / "home"))
    data = DataVersion(
        name="tiny/data",
        top_hash="d" * 64,
        registry=str(tmp_path / "registry"),
        train=_images(200, 1),
        test=_images(50, 2),
        files={},
        meta={},
    )
    monkeypatch.setattr(run_steps, "load_data", lambda **kwargs: data)
    monkeypatch.setattr(run_steps, "ensure_quality", lambda data: None)
    return pipeline.config_from_parameters(
        "quick", epochs=1, limit=0, validation_size=40, stages=[[4]], dense_units=8, batch_size=32
    )


def _versions(reg: Path) -> list[str]:
    return [v.top_hash for v in registry.list_versions(registry=str(reg), name=MODEL)]


def _published_metrics(reg: Path, top_hash: str, dest: Path) -> dict:
    fetched = registry.fetch(MODEL, dest, registry=str(reg), top_hash=top_hash)
    return json.loads(Path(fetched.files[METRICS_FILE]).read_text())


def test_publishing_an_unchanged_run_again_gives_the_same_version(tiny: TrainConfig, tmp_path: Path) -> None:
    reg = tmp_path / "registry"
    run = pipeline.assess(pipeline.fit(pipeline.prepare_run(tiny, output_dir=tmp_path / "run"), verbose=0))
    first = pipeline.publish(run, name=MODEL)
    assert json.loads(run.folder.metrics.read_text())["model_top_hash"] == first  # the run records its version
    assert pipeline.publish(run, name=MODEL) == first  # the notebook's publishing cell run again
    assert _versions(reg) == [first]
    assert _published_metrics(reg, first, tmp_path / "fetched")["model_top_hash"] is None  # names no version


def test_model_push_of_a_published_run_names_no_other_version(tiny: TrainConfig, tmp_path: Path) -> None:
    """``fashion model push`` of a folder the pipeline published: its metrics.json records that
    version, which the pushed package does not name; pushed twice, one version."""
    run = pipeline.assess(pipeline.fit(pipeline.prepare_run(tiny, output_dir=tmp_path / "run"), verbose=0))
    first = pipeline.publish(run, name=MODEL)
    other = tmp_path / "other"
    pushed = pipeline.push_run_folder(run.output_dir, registry=str(other), name=MODEL)
    assert pipeline.push_run_folder(run.output_dir, registry=str(other), name=MODEL) == pushed
    assert _versions(other) == [pushed]
    assert _published_metrics(other, pushed, tmp_path / "fetched")["model_top_hash"] is None
    assert json.loads(run.folder.metrics.read_text())["model_top_hash"] == first  # the folder's record is kept


def test_fitting_a_trained_run_again_is_refused_and_changes_nothing(tiny: TrainConfig, tmp_path: Path) -> None:
    """The notebook's training cell run again after publishing: one line, the folder as it was."""
    run = pipeline.assess(pipeline.fit(pipeline.prepare_run(tiny, output_dir=tmp_path / "run"), verbose=0))
    pipeline.publish(run, name=MODEL)
    before = {path.name: path.read_bytes() for path in run.output_dir.iterdir()}
    with pytest.raises(DestinationError) as refused:
        pipeline.fit(run, verbose=0)
    assert str(refused.value) == (
        f"run folder {run.output_dir}: this run is already trained (clf.keras); start a new run with "
        "pipeline.prepare_run (in a notebook: run its cell again, output_dir None or a new folder)"
    )
    assert {path.name: path.read_bytes() for path in run.output_dir.iterdir()} == before
    with pytest.raises(DestinationError, match="already trained"):  # the same folder, in a new kernel
        pipeline.fit(run_steps.TrainingRun(config=run.config, data=run.data, output_dir=run.output_dir), verbose=0)
