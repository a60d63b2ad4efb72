"""A run folder used again: published twice, fitted twice, interrupted and retried.

A tiny real run (random images, one epoch of a four-filter network) through the library's steps,
as train.ipynb calls them, with a real registry on disk; only the data loading is replaced.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
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
    return tiny_setup(tmp_path, monkeypatch)


def tiny_setup(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> TrainConfig:
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


# --------------------------------------------------------------------------- interrupted runs


def _interrupt_after_training(monkeypatch: pytest.MonkeyPatch, exc: type[BaseException]) -> None:
    """Training runs (config.json and the history are written), then ``exc`` arrives, as Ctrl-C would."""
    import fashion_lib.train as train

    def interrupted(*args, **kwargs):
        original(*args, **kwargs)
        raise exc

    original = train._fit
    monkeypatch.setattr(train, "_fit", interrupted)


def test_an_interrupted_fit_leaves_nothing_and_the_folder_can_be_used_again(
    tiny: TrainConfig, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "new" / "runs" / "run"  # none of them there yet
    mine = tmp_path / "mine"  # made by the user, with a file of theirs
    mine.mkdir()
    (mine / "notes.txt").write_text("mine")
    with monkeypatch.context() as patched:
        _interrupt_after_training(patched, KeyboardInterrupt)
        for output_dir in (folder, mine):
            run = pipeline.prepare_run(tiny, output_dir=output_dir)
            with pytest.raises(KeyboardInterrupt):
                pipeline.fit(run, verbose=0)
            assert run.result is None
    assert not (tmp_path / "new").exists()
    assert [p.name for p in mine.iterdir()] == ["notes.txt"]
    retried = pipeline.fit(pipeline.prepare_run(tiny, output_dir=folder), verbose=0)  # the same output_dir again
    assert retried.model_path.is_file()


def test_a_run_interrupted_while_assessing_leaves_nothing(
    tiny: TrainConfig, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The whole job (fashion train): a trained model without its metrics is no finished run."""

    def interrupted(run, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(run_steps, "assess", interrupted)
    with pytest.raises(KeyboardInterrupt):
        pipeline.train_evaluate_publish(tiny, output_dir=tmp_path / "run", log=lambda line: None)
    assert not (tmp_path / "run").exists()


# A child script's lines (it imports os, signal and fashion_lib.train as train): SIGTERM to itself once fit is done.
SIGTERM_AFTER_FIT = """
original = train._fit
def terminated(*args, **kwargs):
    original(*args, **kwargs)
    os.kill(os.getpid(), signal.SIGTERM)
    for _ in range(1000):  # the handler runs between bytecodes
        pass
    raise AssertionError("SIGTERM did not stop the run")
train._fit = terminated
"""


def test_a_run_stopped_by_sigterm_leaves_nothing(tmp_path: Path) -> None:
    """SIGTERM during training (`timeout`, `docker stop`): the files go, then the process ends by SIGTERM."""
    script = f"""
import os, signal, sys
sys.path.insert(0, {str(Path(__file__).parent)!r})
import pytest
import fashion_lib.train as train
from test_run_reuse import tiny_setup
from fashion_lib import pipeline
{SIGTERM_AFTER_FIT}with pytest.MonkeyPatch.context() as patched:
    config = tiny_setup(__import__("pathlib").Path({str(tmp_path)!r}), patched)
    pipeline.fit(pipeline.prepare_run(config, output_dir={str(tmp_path / "run")!r}), verbose=0)
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert done.returncode == -signal.SIGTERM, done.stderr[-2000:]
    assert not (tmp_path / "run").exists()


def test_a_folder_holding_an_unfinished_run_is_named_as_such(tiny: TrainConfig, tmp_path: Path) -> None:
    """What a kernel killed mid-training (SIGKILL, or papermill stopped) leaves: named, not taken for a run."""
    folder = tmp_path / "run"
    folder.mkdir()
    for name in ("config.json", "history.csv", "history.json"):
        (folder / name).write_text("{}")
    with pytest.raises(DestinationError) as refused:
        pipeline.prepare_run(tiny, output_dir=folder)
    assert str(refused.value) == (
        f"run folder {folder}: holds an unfinished run (history.csv, config.json, history.json; no clf.keras): "
        "remove it or choose another output_dir"
    )
