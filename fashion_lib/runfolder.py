"""A training run's output folder: the one place that names its files, which ``fashion train`` writes,
``fashion model push`` publishes and the notebooks read."""

from __future__ import annotations

import json
import os
import shutil
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .console import stderr
from .errors import ConfigError, DestinationError
from .fsutil import atomic_path, missing_folders, regular_file, remove_folders, unusable, why_failed
from .run_history import history_problem
from .run_owner import LEFT_BY_KILLED, clear_dead, disown, own, refuse_held, sweep
from .scratch import scratch_folder

MODEL_FILE = "clf.keras"  # the trained model (Keras v3 format)
HISTORY_CSV = "history.csv"  # one row per epoch: loss, accuracy, val_loss, val_accuracy, ...
HISTORY_JSON = "history.json"  # the same history as JSON
CONFIG_FILE = "config.json"  # the TrainConfig the run used
METRICS_FILE = "metrics.json"  # test metrics and the run's data version, times, model top hash
TRAIN_RESULT_FILE = "train_result.json"  # the trainer's own summary (epochs run, best epoch, seconds)
README_FILE = "README.md"  # the model card (in the model package, written by the publisher)
# the code, environment, machine and data-quality verdict the run trained with (the lineage's, not a package file)
PROVENANCE_FILE = "provenance.json"

PUBLISHED_FILES = (MODEL_FILE, HISTORY_CSV, METRICS_FILE, CONFIG_FILE)  # what a model package holds
# what a run writes: a new run never overwrites them
RUN_FILES = (*PUBLISHED_FILES, HISTORY_JSON, TRAIN_RESULT_FILE, PROVENANCE_FILE)
# metrics.json's record of the version published from the folder: not part of that version (see as_published)
PUBLISHED_VERSION_KEY = "model_top_hash"


@dataclass(frozen=True)
class RunFolder:
    """The files of one training run's output folder."""

    path: Path

    def __post_init__(self) -> None:
        object.__setattr__(self, "path", Path(self.path))

    @property
    def model(self) -> Path:
        return self.path / MODEL_FILE

    @property
    def history_csv(self) -> Path:
        return self.path / HISTORY_CSV

    @property
    def history_json(self) -> Path:
        return self.path / HISTORY_JSON

    @property
    def config(self) -> Path:
        return self.path / CONFIG_FILE

    @property
    def metrics(self) -> Path:
        return self.path / METRICS_FILE

    @property
    def provenance(self) -> Path:
        return self.path / PROVENANCE_FILE

    @classmethod
    def new(cls, parent: Path, stem: str) -> RunFolder:
        """``parent/stem``, or ``parent/stem-2``, ``-3``... when a run of the same second took it: made here,
        empty, by an exclusive ``mkdir`` (two runs started together never share one), and claimed: while no run
        wrote to it, :meth:`removed_if_unfinished` and :meth:`Claim.release` remove it (and the folders made for it).
        Marked as this live process's (:mod:`.run_owner`); the folders beside it left by killed runs are removed."""
        first = cls(Path(parent) / stem)
        if not os.path.lexists(first.path):
            first.check_writable()  # named as the folder a run would get
        made = missing_folders(first.path.parent)
        try:
            first.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise DestinationError(f"run folder {first.path}: cannot be made: {why_failed(exc)}") from None
        folder, number = first, 1
        while True:
            try:
                folder.path.mkdir()
            except FileExistsError:  # taken (or a file of that name): the next number
                number += 1
                folder = cls(first.path.parent / f"{stem}-{number}")
                continue
            except OSError as exc:
                raise DestinationError(f"run folder {folder.path}: cannot be made: {why_failed(exc)}") from None
            own(folder.path)
            _CLAIMED[folder.path.absolute()] = [folder.path.absolute(), *made]
            sweep(folder.path.parent, folder.path, RUN_FILES, MODEL_FILE, log=stderr)
            return folder

    def check_writable(self) -> None:
        """DestinationError naming the folder unless it is one we can write, or can make (nothing is made)."""
        why = unusable(self.path, folder=True)
        if why:
            raise DestinationError(f"run folder {self.path}: {why}")

    def check_new(self) -> None:
        """:meth:`check_writable`, and DestinationError naming the folder if it already holds a
        training run's files: a new run would overwrite them, leaving a folder whose files disagree. Or while a
        run in another process writes it; the files a killed run left (:mod:`.run_owner`) are removed, said."""
        self.check_writable()
        refuse_held(self.path)
        found = [name for name in RUN_FILES if (self.path / name).exists()]
        if found and MODEL_FILE not in found and clear_dead(self.path, RUN_FILES, MODEL_FILE, named=True) == "":
            stderr(f"note: removed the files in run folder {self.path}, {LEFT_BY_KILLED}")
            found = []
        if found and MODEL_FILE not in found:  # one stopped by SIGKILL, or by a kernel that died
            raise DestinationError(
                f"run folder {self.path}: holds an unfinished run ({', '.join(found)}; no {MODEL_FILE}): "
                "remove it or choose another output_dir"
            )
        if found:
            raise DestinationError(
                f"run folder {self.path}: already holds a training run ({', '.join(found)}); "
                "choose an empty or new folder"
            )

    @contextmanager
    def removed_if_unfinished(self) -> Iterator[None]:
        """Run the block that writes the run's files; if it fails or is interrupted (Ctrl-C, or
        SIGTERM, which is delivered again afterwards), the run files it wrote are removed, and the
        folders it made: nothing half-written is left, and the same output_dir can be used again."""
        # deepest first: those this block makes, or those new() made to claim the folder
        made = missing_folders(self.path) or _CLAIMED.get(self.path.absolute(), [])
        before = {name for name in RUN_FILES if (self.path / name).exists()}
        own(self.path)  # a live run's, until the model is written
        try:
            with _sigterm_raises() as installed:
                yield
            if self.model.exists():
                disown(self.path)
        except BaseException as exc:
            self._remove(set(RUN_FILES) - before, made)
            if not self.path.exists():
                _CLAIMED.pop(self.path.absolute(), None)
            if isinstance(exc, _Terminated) and installed:
                signal.signal(signal.SIGTERM, signal.SIG_DFL)
                os.kill(os.getpid(), signal.SIGTERM)  # ends the process as SIGTERM would have
            raise

    def _remove(self, names: set[str], folders: list[Path]) -> None:
        """Remove the run files ``names`` (and their temporary copies), then ``folders`` if empty."""
        for name in names:
            for path in (self.path / name, *self.path.glob(f".{name}.*part")):
                try:
                    path.unlink(missing_ok=True)
                except OSError:
                    pass
        disown(self.path)
        remove_folders(folders)  # deepest first; one holding anything else stays

    def check_history(self, epochs_run: Any = None) -> None:
        """ConfigError naming ``history.csv`` unless it is one a run writes: a header with ``epoch`` and
        ``loss``, then a row of numbers per epoch from 1 (``epochs_run`` rows, where metrics.json says)."""
        if not self.history_csv.exists():
            raise ConfigError(f"{self.path}: {HISTORY_CSV} is missing; expected the files of a finished training run")
        csv_file = regular_file(self.history_csv, f"the {HISTORY_CSV} of a run", ConfigError)
        why = history_problem(csv_file, epochs_run, METRICS_FILE)
        if why:
            raise ConfigError(f"{self.history_csv}: {why}; expected the {HISTORY_CSV} of a finished training run")

    def published_files(self) -> dict[str, Path]:
        """The files a model package takes from this folder, those that exist."""
        return {name: self.path / name for name in PUBLISHED_FILES if (self.path / name).is_file()}

    @contextmanager
    def as_published(self) -> Iterator[Path]:
        """The folder to publish from: this one, or, once ``metrics.json`` records a published version,
        a scratch copy of the published files whose ``metrics.json`` records none (``null``).

        A version cannot name itself, so the record stays out of every package: publishing an
        unchanged run again gives the same top hash, and no package's ``metrics.json`` names another
        version. The scratch copy (:func:`~fashion_lib.scratch.scratch_folder`) is removed on leaving, or, left
        by a push killed outright, by the next push; a run folder that cannot be written publishes all the same."""
        metrics = read_json_object(self.metrics)
        if metrics.get(PUBLISHED_VERSION_KEY) is None:
            yield self.path
            return
        with scratch_folder("fashion-publish-") as scratch:
            for name, path in self.published_files().items():
                shutil.copyfile(path, Path(scratch) / name)
            metrics[PUBLISHED_VERSION_KEY] = None  # as the run's first publish had it
            write_json(Path(scratch) / METRICS_FILE, metrics)  # written as the run wrote it
            yield Path(scratch)

    def read_finished(self) -> tuple[dict[str, Any], dict[str, Any]]:
        """(metrics, config) of a finished run; ConfigError naming the file that is not there or not JSON."""
        metrics, config = (read_json_object(path) for path in (self.metrics, self.config))
        for key in ("data_package", "data_top_hash", "test_accuracy"):
            if key not in metrics:
                raise ConfigError(f"{self.metrics}: no {key!r}; expected the metrics of a finished, evaluated run")
        return metrics, config

    def read_provenance(self) -> dict[str, Any] | None:
        """What the run recorded when it trained (``provenance.json``: ``code``, ``environment``,
        ``data_quality``), or None for a run trained before runs recorded it; ConfigError naming the
        file if it is not such a record."""
        if not self.provenance.exists():
            return None
        recorded = read_json_object(self.provenance)
        for key in ("code", "environment"):
            if not isinstance(recorded.get(key), dict):
                raise ConfigError(
                    f"{self.provenance}: no {key!r} record; expected what the run recorded when it trained"
                )
        if not isinstance(recorded.get("data_quality", {}), (dict, type(None))):
            raise ConfigError(f"{self.provenance}: 'data_quality' is not a verdict; expected a JSON object or null")
        return recorded


# folders RunFolder.new made -> each one's claim: the folders made for it, deepest first (a new list per claim)
_CLAIMED: dict[Path, list[Path]] = {}


class Claim:
    """A run's hold on the folder :meth:`RunFolder.new` made for it, named from ``stem``."""

    def __init__(self, folder: RunFolder, stem: str) -> None:
        self.folder, self.stem, self.held = folder, stem, _CLAIMED.get(folder.path.absolute())

    def renew(self) -> RunFolder:
        """The folder, claimed again if a failed fit gave it back: the same name where still free, else the next
        (``-2``...), never one a newer run of the same second claimed since."""
        if self.held is None or _CLAIMED.get(self.folder.path.absolute()) is not self.held:
            self.folder = RunFolder.new(self.folder.path.parent, self.stem)
            self.held = _CLAIMED[self.folder.path.absolute()]
        return self.folder

    def release(self) -> None:
        """For ``weakref.finalize``: remove the folder (and those made for it) if no run wrote to it, while this
        claim holds it (a folder given back and claimed by another run is theirs): a run dropped unfitted leaves
        no empty folder."""
        _release(self.folder.path.absolute(), self.held)


def _release(path: Path, claim: list[Path] | None) -> None:
    """Remove the folder ``path`` and those made for it, if still empty and still held by ``claim``."""
    if claim is not None and _CLAIMED.get(path) is claim:
        del _CLAIMED[path]
        RunFolder(path)._remove(set(), claim)


def read_json_object(path: Path) -> dict[str, Any]:
    """The JSON object in ``path``, a file of a finished run; ConfigError naming it otherwise."""
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        why = {FileNotFoundError: "is missing", IsADirectoryError: "is a folder"}.get(type(exc))
        why = why or f"cannot be read as JSON ({exc.__class__.__name__})"
        raise ConfigError(f"{path}: {why}; expected the {path.name} of a finished training run") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: holds a JSON {type(data).__name__}; expected a JSON object")
    return data


class _Terminated(BaseException):
    """SIGTERM arrived while a run was writing its files (see :meth:`RunFolder.removed_if_unfinished`)."""


@contextmanager
def _sigterm_raises() -> Iterator[bool]:
    """SIGTERM raises :class:`_Terminated` inside the block, where it would end the process anyway
    (the default action, in the main thread); yields whether that handler was installed here."""
    if threading.current_thread() is not threading.main_thread() or signal.getsignal(signal.SIGTERM) != signal.SIG_DFL:
        yield False
        return

    def terminated(signum: int, frame: Any) -> None:
        raise _Terminated

    signal.signal(signal.SIGTERM, terminated)
    try:
        yield True
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)


def write_json(path: Path, data: Any) -> Path:
    """Write JSON atomically, in the one layout of a run's JSON files (a republished run's bytes match).
    A folder that cannot be made or written (a file system that refuses, a full disk) is a DestinationError
    naming it: the notebooks show it as one line, as the CLI does."""
    try:
        with atomic_path(path) as tmp:
            tmp.write_text(json.dumps(data, indent=2, sort_keys=True, default=str))
    except OSError as exc:
        raise DestinationError(f"run folder {path.parent}: cannot write {path.name}: {why_failed(exc)}") from None
    return path
