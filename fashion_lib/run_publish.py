"""Publishing a finished run's folder as a model package: the one path behind ``pipeline.publish``
(``fashion run``, train.ipynb) and ``fashion model push``, so a run gives one top hash either way."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from .lineage import run_lineage
from .model_package import check_run_folder, publish_model
from .quality.gate import quality_summary
from .runfolder import RunFolder

if TYPE_CHECKING:
    from .registry import RegistryLike


def publish_folder(
    folder: RunFolder, quality: dict[str, Any] | None, *, registry: RegistryLike, name: str | None
) -> str:
    """Publish a run folder as a model package, its lineage built from the folder's files (:func:`run_lineage`,
    whichever path publishes it); ``metrics.json``'s record of a version published before stays out of it
    (:meth:`RunFolder.as_published`), so an unchanged run gives the same version."""
    lineage = run_lineage(folder.path, quality=quality)
    with folder.as_published() as source:
        if source != folder.path:
            check_run_folder(folder.path)  # a mistake is named in the user's folder, not in the scratch copy
        return publish_model(source, lineage, registry=registry, name=name)


def push_run_folder(folder: str | Path, *, registry: RegistryLike = None, name: str | None = None) -> str:
    """Publish a finished run's folder as a model package (``fashion model push``); its top hash.

    The lineage comes from the folder's ``metrics.json`` and ``config.json`` through the same
    builder a training run uses, with the data version's stored quality verdict when its
    registry can be read.
    """
    run_folder = RunFolder(Path(folder))
    metrics, _ = run_folder.read_finished()
    return publish_folder(run_folder, _data_quality(metrics, registry), registry=registry, name=name)


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
