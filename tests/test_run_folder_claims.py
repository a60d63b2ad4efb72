"""A run folder named automatically (no output_dir) is claimed when the run is prepared: two runs
started in the same second get ``run-TIME`` and ``run-TIME-2``, never one folder; a run that fails
or is dropped before it writes leaves no folder behind. A folder the user names is made by the
run's first file, as before."""

from __future__ import annotations

import errno
import gc
import json
import os
from pathlib import Path

import pytest

import fashion_lib.run_steps as steps
from fashion_lib import pipeline
from fashion_lib.errors import ConfigError, DestinationError
from fashion_lib.run_owner import LOCK_FILE
from fashion_lib.runfolder import PROVENANCE_FILE, RunFolder


class _Data:
    """Just enough of a DataVersion for prepare_run."""

    registry = "nowhere"
    train = range(60000)
    meta: dict = {}

    def describe(self) -> str:
        return "some data"


@pytest.fixture
def outputs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The outputs folder (not made yet); every run starts in the same second; the data is at hand."""
    monkeypatch.setenv("FASHION_OUTPUT_DIR", str(tmp_path / "outputs"))
    monkeypatch.setattr(steps.time, "strftime", lambda fmt: "run-20261129-051656")
    monkeypatch.setattr(steps, "load_data", lambda **kwargs: _Data())
    monkeypatch.setattr(steps, "ensure_quality", lambda data: None)
    return tmp_path / "outputs"


def test_two_folders_asked_for_the_same_stem_are_two_folders(tmp_path: Path) -> None:
    first, second = RunFolder.new(tmp_path, "run-1"), RunFolder.new(tmp_path, "run-1")
    assert (first.path, second.path) == (tmp_path / "run-1", tmp_path / "run-1-2")
    assert first.path.is_dir() and second.path.is_dir()  # claimed: the next run sees them taken


def test_two_runs_started_in_the_same_second_write_to_two_folders(outputs: Path) -> None:
    config = pipeline.config_from_parameters("quick")
    first = pipeline.prepare_run(config)
    second = pipeline.prepare_run(config)  # before the first has written anything
    assert (first.output_dir, second.output_dir) == (outputs / "run-20261129-051656", outputs / "run-20261129-051656-2")
    (first.output_dir / PROVENANCE_FILE).write_text(json.dumps({}))  # the first run starts writing
    second.folder.check_new()  # the second's folder is still its own (before: "holds an unfinished run")
    steps._check_not_fitted(second)


def test_a_failed_or_dropped_run_leaves_no_claimed_folder(outputs: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_data(**kwargs):
        raise ConfigError("no data today")

    config = pipeline.config_from_parameters("quick")
    run = pipeline.prepare_run(config)
    assert run.output_dir.is_dir()
    with pytest.raises(ConfigError), run.folder.removed_if_unfinished():  # as fit does, failing
        (run.output_dir / PROVENANCE_FILE).write_text("{}")
        raise ConfigError("training failed")
    assert not outputs.exists()  # the run folder, and the outputs folder made for it

    del run
    run = pipeline.prepare_run(config)
    del run  # dropped unfitted (a notebook cell run again, a worker that writes nothing)
    gc.collect()
    assert not outputs.exists()

    monkeypatch.setattr(steps, "load_data", no_data)
    with pytest.raises(ConfigError, match="no data today"):
        pipeline.prepare_run(config)
    assert not outputs.exists()


def test_a_finished_run_keeps_its_folder_when_dropped(outputs: Path) -> None:
    run = pipeline.prepare_run(pipeline.config_from_parameters("quick"))
    (run.output_dir / PROVENANCE_FILE).write_text("{}")
    folder = run.output_dir
    del run
    gc.collect()
    assert (folder / PROVENANCE_FILE).is_file()


def test_a_folder_the_user_names_is_still_refused_when_it_holds_a_run(outputs: Path, tmp_path: Path) -> None:
    named = tmp_path / "mine"
    named.mkdir()
    (named / PROVENANCE_FILE).write_text("{}")
    with pytest.raises(DestinationError, match="holds an unfinished run"):
        pipeline.prepare_run(pipeline.config_from_parameters("quick"), output_dir=named)
    fresh = tmp_path / "fresh"
    assert pipeline.prepare_run(pipeline.config_from_parameters("quick"), output_dir=fresh).output_dir == fresh
    assert not fresh.exists()  # made by the run's first file


def test_a_dropped_failed_run_never_removes_the_folder_a_newer_run_claimed(outputs: Path) -> None:
    config = pipeline.config_from_parameters("quick")
    first = pipeline.prepare_run(config)
    with pytest.raises(ConfigError), first.folder.removed_if_unfinished():  # fit fails: folder and claim go
        raise ConfigError("training failed")
    second = pipeline.prepare_run(config)  # the same second: the freed name is taken again
    assert second.output_dir == first.output_dir
    del first  # the failed run dropped: its finalizer must not touch the second's claim
    gc.collect()
    assert second.output_dir.is_dir()  # before: removed, still claimed by the second run
    third = pipeline.prepare_run(config)
    assert third.output_dir == outputs / "run-20261129-051656-2"  # before: the second's folder, shared


def _tf_config(index: int) -> str:
    return json.dumps(
        {"cluster": {"worker": ["10.0.0.1:1234", "10.0.0.2:1234"]}, "task": {"type": "worker", "index": index}}
    )


def test_only_the_chief_claims_a_run_folder(outputs: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = pipeline.config_from_parameters("quick")
    monkeypatch.setenv("TF_CONFIG", _tf_config(1))  # a worker that writes nothing, started first
    worker = pipeline.prepare_run(config)
    assert not outputs.exists()  # before: run-TIME made and claimed by the worker
    monkeypatch.setenv("TF_CONFIG", _tf_config(0))  # the chief, in the same second, sharing the outputs folder
    chief = pipeline.prepare_run(config)
    assert chief.output_dir == worker.output_dir == outputs / "run-20261129-051656"  # before: the chief got -2
    assert chief.output_dir.is_dir()


class _OneReplica:
    """A strategy without a cluster (no TensorFlow needed to tell this process writes the run's files)."""

    num_replicas_in_sync = 1


def _fail_training(monkeypatch: pytest.MonkeyPatch, run: steps.TrainingRun) -> None:
    """``fit`` stops, as a mistake in training would, once it wrote the run's first file."""

    def train(config, images, **kwargs):
        assert (run.output_dir / PROVENANCE_FILE).is_file()
        raise ConfigError("a mistake in training")

    monkeypatch.setattr("fashion_lib.train.train", train)


def test_fitting_again_after_a_failed_fit_claims_a_folder_again(outputs: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A notebook's fit cell rerun after a failure trains; a newer run that took the freed name keeps it."""
    config = pipeline.config_from_parameters("quick")
    first = pipeline.prepare_run(config)
    _fail_training(monkeypatch, first)
    with pytest.raises(ConfigError, match="a mistake in training"):
        pipeline.fit(first, strategy=_OneReplica(), verbose=0)
    assert not first.output_dir.exists()  # given back
    second = pipeline.prepare_run(config)  # the same second: it claims the freed name
    assert second.output_dir == outputs / "run-20261129-051656"
    with pytest.raises(ConfigError, match="a mistake in training"):  # it got as far as training: a folder of its own
        pipeline.fit(first, strategy=_OneReplica(), verbose=0)  # before: it wrote into the second run's folder
    assert first.output_dir == outputs / "run-20261129-051656-2"
    assert [p.name for p in second.output_dir.iterdir()] == [LOCK_FILE]  # the second run's folder: only its mark
    second.folder.check_new()
    assert not first.output_dir.exists()  # the refit failed too: its folder given back again

    del second
    gc.collect()  # the name is free once more: the next refit claims it
    with pytest.raises(ConfigError, match="a mistake in training"):
        pipeline.fit(first, strategy=_OneReplica(), verbose=0)
    assert first.output_dir == outputs / "run-20261129-051656"


class _TwoWorkers:
    """The chief's strategy once the other worker answered (``cluster_resolver`` None: this process writes)."""

    num_replicas_in_sync = 2


def test_the_folder_said_is_the_one_written_when_its_name_was_taken_during_the_wait(
    outputs: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """``fashion train`` on a cluster's chief gives its folder back for the wait for the workers and claims it
    again after; another run that took the name meanwhile keeps it, and this run says the folder it writes to.
    Before: only the folder given back was said (printed before the wait), and the run wrote into ``-2``."""
    from fashion_lib.cli import main

    taken = outputs / "run-20261129-051656"

    def other_run_starts_while_waiting():
        assert not taken.exists()  # given back for the wait
        taken.mkdir(parents=True)  # the same second's next run claims the name
        return _TwoWorkers()

    written = []

    def train(config, images, *, output_dir, **kwargs):
        written.append(output_dir)
        raise ConfigError("stop after the folder is settled")

    monkeypatch.setenv("FASHION_HOME", str(outputs.parent / "home"))
    monkeypatch.setenv("TF_CONFIG", _tf_config(0))
    monkeypatch.setattr("fashion_lib.train.strategy_from_environment", other_run_starts_while_waiting)
    monkeypatch.setattr("fashion_lib.train.train", train)
    assert main(["train", "--preset", "quick"]) == ConfigError.exit_code
    said = [line for line in capsys.readouterr().err.splitlines() if "outputs: " in line]
    assert written == [outputs / "run-20261129-051656-2"]
    assert said[0].endswith(f"; outputs: {taken}") and len(said) == 2, said
    assert said[-1] == (
        f"outputs: {written[0]} instead (another run took {taken.name} while this one waited for its workers)"
    )
    assert taken.is_dir() and not written[0].exists()  # the other run's folder kept; this failed run's removed


def test_a_full_disk_is_named_when_a_run_folder_cannot_be_made(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def full(self, *args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(Path, "mkdir", full)
    with pytest.raises(DestinationError) as raised:
        RunFolder.new(tmp_path / "outputs", "run-1")
    assert str(raised.value) == f"run folder {tmp_path / 'outputs' / 'run-1'}: cannot be made: the disk is full"
    with pytest.raises(DestinationError) as raised:
        RunFolder.new(tmp_path, "run-1")  # the outputs folder is there: the run folder's own mkdir fails
    assert str(raised.value) == f"run folder {tmp_path / 'run-1'}: cannot be made: the disk is full"


def test_a_default_run_folder_that_cant_be_made_says_where_else_to_put_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A home in a checkout the user can't write (here: a file where its outputs folder belongs). Before, the line
    named the folder only; the ways to choose another were not said."""
    from fashion_lib.cli import main

    home = tmp_path / "home"
    home.mkdir()
    (home / "outputs").write_text("a file where the outputs folder belongs")
    monkeypatch.setenv("FASHION_HOME", str(home))
    monkeypatch.delenv("FASHION_OUTPUT_DIR", raising=False)
    assert main(["train", "--preset", "quick"]) == DestinationError.exit_code
    line = capsys.readouterr().err.strip()
    assert line.startswith(f"fashion: error: run folder {home / 'outputs'}/run-"), line
    assert line.endswith(
        "; choose the run's folder with --output-dir (a notebook's output_dir), or set FASHION_OUTPUT_DIR or "
        "FASHION_HOME"
    ), line


def test_a_run_folder_that_cant_be_made_in_fashion_output_dir_names_the_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Review 100: with FASHION_OUTPUT_DIR set, a run folder that can't be made there (a full disk) did not name it."""

    def full(self, *args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setenv("FASHION_OUTPUT_DIR", str(tmp_path))
    monkeypatch.setattr(Path, "mkdir", full)
    with pytest.raises(DestinationError) as raised:
        steps._new_run_folder("run-1")
    assert str(raised.value) == (
        f"run folder {tmp_path / 'run-1'}: cannot be made: the disk is full; choose the run's folder with "
        f"--output-dir (a notebook's output_dir), or set another FASHION_OUTPUT_DIR (it is {str(tmp_path)!r})"
    )
