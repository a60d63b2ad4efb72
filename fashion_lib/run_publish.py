"""Publishing a finished run's folder as a model package: the one path behind ``pipeline.publish``
(``fashion run``, train.ipynb) and ``fashion model push``, so a run gives one top hash either way.

The lineage's code, environment and data-quality verdict are those the run recorded when it trained
(``provenance.json``), not the publishing machine's: pushing after new commits, from another checkout
or another machine, records how the model was made, and says what differs here in one note.
"""

from __future__ import annotations

import contextlib
import shlex
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from .console import Log
from .console import stderr as _stderr
from .errors import ConfigError, RegistryError
from .evaluate import chance_warning
from .lineage import run_lineage
from .lineage_values import check_run_metrics
from .model_package import check_run_folder, publish_model
from .provenance import differences
from .quality.gate import quality_summary
from .runfolder import PROVENANCE_FILE, RunFolder

if TYPE_CHECKING:
    from .registry import RegistryLike

E = TypeVar("E", RegistryError, ConfigError)  # a publish's failure, kept as its own class

Quality = Callable[[], "dict[str, Any] | None"]


def publish_folder(
    folder: RunFolder, quality: Quality, *, registry: RegistryLike, name: str | None, log: Log = _stderr
) -> str:
    """Publish a run folder as a model package, its lineage built from the folder's files (:func:`run_lineage`,
    whichever path publishes it); ``metrics.json``'s record of a version published before stays out of it
    (:meth:`RunFolder.as_published`), so an unchanged run gives the same version.

    A folder trained before runs recorded their provenance gets this machine's code and environment, and
    ``quality()``'s verdict, with a note saying so; one whose recorded code or environment differs from
    this machine's keeps the recorded ones, with a note naming what differs (logged once published)."""
    recorded = folder.read_provenance()
    if recorded is None:
        lineage = run_lineage(folder.path, quality=quality())
        note = (
            f"note: {folder.path} has no recorded provenance (trained before runs wrote {PROVENANCE_FILE}); "
            "recording this machine's code and environment"
        )
    else:
        lineage, differ = run_lineage(folder.path), differences(recorded)
        note = (
            f"note: this machine's code or environment differs from the one {folder.path} was trained with "
            f"({'; '.join(differ)}); the lineage records the training's"
            if differ
            else ""
        )
    with folder.as_published() as source:
        if source != folder.path:
            check_run_folder(folder.path)  # a mistake is named in the user's folder, not in the scratch copy
        top_hash = publish_model(source, lineage, registry=registry, name=name)
    if note:  # once published: a folder refused stays one line
        log(note)
    return top_hash


def refuse_unpublishable(registry: RegistryLike, name: str | None) -> None:
    """Before any data is loaded or trained on: a bad model package ``name``, and the access-denied line a
    publish of it to a local ``registry`` would end in (``data prepare``'s check,
    :func:`~fashion_lib.registry.refuse_unwritable`); said only where this process publishes, not by another
    worker of a cluster. An S3 bucket is not asked (that takes a write)."""
    from . import registry as reg
    from .parameters import model_package_name
    from .training.cluster import cluster_from_environment

    name = model_package_name(name)
    cluster = cluster_from_environment()
    if cluster is None or cluster.chief:
        reg.refuse_unwritable(reg.open(registry), name)


def kept_for_later(error: E, folder: Path, registry: RegistryLike, name: str | None) -> E:
    """``error``, a publish of the finished run in ``folder`` that failed, its line ending with where the run is
    kept and the ``fashion model push`` command that publishes it to that ``registry`` and package (``name``, or
    the one FASHION_MODEL_PACKAGE or the default names now: a later shell may not have the variable)."""
    from .parameters import model_package_name

    where = getattr(registry, "location", registry)
    command = ["fashion", "model", "push", str(folder)]
    command += ["--registry", str(where)] if where is not None else []
    command += ["--model-package", model_package_name(name)]
    kept = type(error).__new__(type(error))  # its class and attributes, whatever its constructor takes
    kept.__dict__.update(error.__dict__)
    kept.args = (f"{error}; the trained run is kept in {folder} (publish it with: {shlex.join(command)})",)
    return kept


def push_run_folder(
    folder: str | Path, *, registry: RegistryLike = None, name: str | None = None, log: Log = _stderr
) -> str:
    """Publish a finished run's folder as a model package (``fashion model push``); its top hash.

    The lineage comes from the folder's ``metrics.json``, ``config.json`` and ``provenance.json``
    through the same builder a training run uses; a folder without ``provenance.json`` (trained
    before runs wrote it) gets the data version's stored quality verdict when its registry can be read.
    A run whose test accuracy is at chance level is published all the same, with one warning line.
    """
    run_folder = _run_folder(Path(folder))
    metrics, _ = run_folder.read_finished()
    check_run_metrics(run_folder.metrics, metrics)  # before a record's values reach the data's registry
    top_hash = publish_folder(
        run_folder, lambda: _data_quality(metrics, registry), registry=registry, name=name, log=log
    )
    warning = chance_warning(metrics.get("confusion_matrix"))
    if warning:  # once published, as the notes are: a folder refused stays one line
        log(warning)
    return top_hash


def _run_folder(path: Path) -> RunFolder:
    """``path`` as a run folder; ConfigError naming it where it is not a folder (rather than its first file)."""
    with contextlib.suppress(OSError):  # one that can't be looked at: reading its files says why
        if not path.is_dir():
            kind = "is a file, not a folder" if path.is_file() else "is not a folder"  # /dev/null, a FIFO
            why = kind if path.exists() else "no such folder"
            raise ConfigError(f"run folder {path}: {why}; expected the folder of a finished training run")
    return RunFolder(path)


def _data_quality(metrics: dict[str, Any], registry: RegistryLike) -> dict[str, Any] | None:
    """The stored quality verdict of the run's data version, or None where it cannot be read."""
    from . import registry as reg
    from .errors import FashionError

    for where in dict.fromkeys(filter(None, (metrics.get("data_registry"), registry))):
        try:
            _, meta, _ = reg.read_meta(metrics["data_package"], registry=where, top_hash=metrics["data_top_hash"])
        except FashionError:
            continue
        return quality_summary(meta)
    return None
