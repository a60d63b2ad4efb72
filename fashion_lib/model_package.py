"""The model package: ``clf.keras``, its training history, metrics, a model card, and lineage.

Pushed only after training and evaluation have finished, so an interrupted run
leaves nothing half-written in the registry. Fetching verifies every file's hash.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import settings
from .console import Log, short
from .console import stderr as _stderr
from .model_card import model_card
from .runfolder import (
    CONFIG_FILE,
    HISTORY_CSV,
    METRICS_FILE,
    MODEL_FILE,
    RunFolder,
    read_json_object,
    write_json,
)

if TYPE_CHECKING:
    from .registry import RegistryLike
    from .registry.manifest import Manifest

# The file names live in runfolder.py; re-exported here for the callers that import them from this module.
__all__ = [
    "CONFIG_FILE",
    "HISTORY_CSV",
    "METRICS_FILE",
    "MODEL_FILE",
    "check_run_folder",
    "publish_model",
    "fetch_model",
    "load_model",
    "read_lineage",
    "check_lineage",
    "write_json",
    "history_frame",
]


def publish_model(
    folder: Path,
    lineage: dict[str, Any],
    *,
    registry: RegistryLike = None,
    name: str | None = None,
    message: str | None = None,
) -> str:
    """Push ``folder``'s model, history, metrics and config with the lineage as metadata,
    once :func:`check_run_folder` has passed (nothing is published otherwise)."""
    from . import registry as reg

    files = check_run_folder(folder)
    accuracy = lineage["metrics"]["test_accuracy"]
    return reg.push(
        name or settings.model_package(),
        files,
        registry=registry,
        meta=lineage,
        message=message or f"CNN, test accuracy {accuracy:.4f}, data {short(lineage['data']['top_hash'])}",
        readme=model_card(lineage),
    )


def check_run_folder(folder: str | Path) -> dict[str, Path]:
    """The files to publish from a run folder, checked: ``clf.keras`` a Keras model (loaded in safe mode) taking
    28x28 images and giving 10 outputs, ``config.json`` a valid training config, ``metrics.json`` values a published
    lineage can hold (:func:`~fashion_lib.lineage_values.check_run_metrics`: reproduce's rules) and ``history.csv``
    a run's (:meth:`RunFolder.check_history`). A ModelError or ConfigError names the file otherwise."""
    from .config import TrainConfig
    from .errors import ConfigError, ModelError
    from .fsutil import regular_file
    from .lineage_values import check_run_metrics
    from .model import load_model_file

    run = RunFolder(Path(folder))
    for name, error in ((MODEL_FILE, ModelError), (CONFIG_FILE, ConfigError), (METRICS_FILE, ConfigError)):
        if not (run.path / name).exists():
            raise error(f"{run.path}: {name} is missing; expected the files of a finished training run")
        regular_file(run.path / name, f"the {name} of a finished training run", error)
    check_run_metrics(run.metrics, metrics := read_json_object(run.metrics))  # what reproduce and the card need
    run.check_history(metrics.get("epochs_run"))  # one row per epoch run: not cut short
    try:
        TrainConfig.from_dict(read_json_object(run.config))
    except ConfigError as exc:
        raise ConfigError(f"{run.config}: {exc}") from None
    except TypeError:  # e.g. "stages": 5
        raise ConfigError(f"{run.config}: not a valid training config; expected the TrainConfig of the run") from None
    _check_outputs(load_model_file(run.model))  # ModelError naming the file: not a Keras model, or the wrong shapes
    return run.published_files()


def _check_outputs(model: Any) -> None:
    """ModelError naming the model file unless it gives class probabilities for two blank images:
    what ``fashion predict`` and ``evaluate`` would refuse (NaN weights, say) is not published."""
    import numpy as np

    from .evaluate import predict_proba

    predict_proba(model, np.zeros((2, 28, 28), np.uint8))


def fetch_model(
    *,
    name: str | None = None,
    top_hash: str | None = None,
    registry: RegistryLike = None,
    dest: Path | None = None,
    overwrite: bool = True,
):
    """Fetch and verify a model package (default ``dest``: a cache, which stands in, verified, for a registry
    that cannot be reached: :mod:`.registry.cache`); ``overwrite=False`` refuses to replace a file in ``dest``
    that differs. A version without ``clf.keras`` (a data package's name) is a ModelError before any fetch."""
    from . import registry as reg

    store = reg.open(registry)
    name = name or settings.model_package()
    return reg.fetch_checked(store, name, top_hash, check_model_file, dest, overwrite)


def check_model_file(found: Manifest) -> None:
    """ModelError unless the version (its manifest) holds ``clf.keras``: said before a byte is fetched."""
    from .errors import ModelError

    if MODEL_FILE not in {entry.key for entry in found.entries}:
        raise ModelError(
            f"{found.label} has no {MODEL_FILE}; is it a model package? "
            "(name a model package instead, or publish one with 'fashion model push')"
        )


def load_model(
    name: str | None = None,
    top_hash: str | None = None,
    *,
    registry: RegistryLike = None,
    model_file: str | Path | None = None,
):
    """Fetch (verified) and load a model from a model package; or, given ``model_file``, that file."""
    from .model import load_model_file

    if model_file:
        return load_model_file(model_file)
    fetched = fetch_model(name=name, top_hash=top_hash, registry=registry)  # refuses a version without clf.keras
    return load_model_file(fetched.files[MODEL_FILE])


def classify_files(
    paths,
    *,
    model_file: str | Path | None = None,
    name: str | None = None,
    top_hash: str | None = None,
    registry: RegistryLike = None,
    log: Log = _stderr,
) -> list[tuple[str, Any]]:
    """``(source, Prediction)`` for every image in PNG files and data-layout CSVs (``fashion predict``),
    by a model file or a model package version; bad images are named before any model is loaded, and
    a blank one (every pixel the same) or an inverted one (a bright frame) gets a warning through ``log``,
    then is classified all the same."""
    from .inputs import load_images
    from .predict import image_warnings, predict

    images = load_images(paths)
    model = load_model(name, top_hash, registry=registry, model_file=model_file)
    found = list(zip(images.sources, predict(model, images.images)))
    for warning in image_warnings(images):  # once classified: a failed run stays one line
        log(warning)
    return found


def read_lineage(
    top_hash: str | None = None, *, name: str | None = None, registry: RegistryLike = None, require: bool = False
) -> tuple[str, str, dict[str, Any]]:
    """(name, full top hash, lineage) of a model package version, without downloading it.

    With ``require`` the lineage must hold what ``reproduce`` needs (ModelError if not).
    """
    from . import registry as reg

    name = name or settings.model_package()
    resolved, meta, _ = reg.read_meta(name, registry=registry, top_hash=top_hash)
    if require:
        check_lineage(name, resolved, meta)
    return name, resolved, meta


def check_lineage(name: str, top_hash: str, meta: dict[str, Any]) -> None:
    """Refuse a version whose metadata lacks what reproducing it needs, naming the field."""
    from .errors import ModelError

    wanted = (
        ("data", dict),
        ("data.name", str),
        ("data.top_hash", str),
        ("training", dict),
        ("training.config", dict),
        ("metrics", dict),
    )
    for path, kind in wanted:
        value: Any = meta
        for part in path.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        if not isinstance(value, kind):
            raise ModelError(
                f"{name}@{short(top_hash)} has no usable lineage ({path} is "
                f"{'missing' if value is None else 'not a ' + kind.__name__}); it was not published "
                "by 'fashion run' or 'fashion train --push', so it cannot be reproduced"
            )


def history_frame(source: str | Path | Any):
    """The training history (one row per epoch, from 1) as a pandas DataFrame.

    ``source`` is a run folder, a ``history.csv`` path, or a fetched model package
    (anything with a ``files`` mapping holding ``history.csv``).
    """
    import pandas as pd

    from .errors import ConfigError

    files = getattr(source, "files", None)
    path = Path(files[HISTORY_CSV]) if isinstance(files, dict) and HISTORY_CSV in files else Path(source)
    if path.is_dir():
        path = RunFolder(path).history_csv
    try:
        frame = pd.read_csv(path)
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{path}: expected the {HISTORY_CSV} of a training run ({exc.__class__.__name__})") from None
    if "epoch" in frame.columns:
        frame = frame.set_index("epoch")
    return frame
