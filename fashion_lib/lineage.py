"""Where a model came from: data version, code commit, environment, config, metrics.

The model package's metadata holds one ``lineage`` record under documented keys:

| key | meaning |
|---|---|
| ``data.name`` / ``data.top_hash`` / ``data.registry`` | the data package the model was trained on |
| ``code.commit`` / ``code.dirty`` / ``code.version`` | git commit (``FASHION_GIT_COMMIT`` where there is no checkout), uncommitted changes, ``fashion_lib`` version |
| ``environment.requirements_sha256`` | SHA-256 of ``requirements.txt`` (the pinned environment) |
| ``environment.python`` / ``.tensorflow`` / ``.keras`` / ``.numpy`` / ``.platform`` | versions that ran the training |
| ``environment.tensorflow_distribution`` | which TensorFlow wheel: ``tensorflow`` (GPU-capable), ``tensorflow-cpu`` (the image) ... |
| ``training.config`` | the full :class:`~fashion_lib.config.TrainConfig` |
| ``training.started`` / ``.finished`` / ``.seconds`` / ``.epochs_run`` | when and how long (``finished`` None: the run's ``metrics.json`` recorded no time) |
| ``metrics`` | test accuracy, loss and per-class scores |

``code``, ``environment`` and ``data.quality`` are what the run recorded when its training started
(the run folder's ``provenance.json``), whichever machine, checkout or commit publishes it.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .console import short
from .lineage_values import check_run_metrics, is_number, shown_value
from .provenance import KERNEL_SETTINGS as KERNEL_SETTINGS
from .provenance import TENSORFLOW_DISTRIBUTIONS as TENSORFLOW_DISTRIBUTIONS
from .provenance import code_state as code_state
from .provenance import environment_state as environment_state
from .provenance import tensorflow_distribution as tensorflow_distribution
from .recipe import brief
from .runfolder import RunFolder
from .settings import display_path


def now() -> str:
    """The current UTC time, ISO 8601."""
    return datetime.now(UTC).isoformat(timespec="seconds")


def build_lineage(
    *,
    data_name: str,
    data_top_hash: str,
    registry: str,
    config: dict[str, Any],
    metrics: dict[str, Any],
    started: str,
    finished: str | None,
    seconds: float,
    epochs_run: int,
    code: dict[str, Any] | None = None,
    environment: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The lineage record stored in a model package's metadata; ``code`` and ``environment`` are
    what the run recorded when it trained (default: this machine's now)."""
    return {
        "data": {"name": data_name, "top_hash": data_top_hash, "registry": registry},
        "code": code if code is not None else code_state(),
        "environment": environment if environment is not None else environment_state(),
        "training": {
            "config": config,
            "started": started,
            "finished": finished,
            "seconds": round(seconds, 1),
            "epochs_run": epochs_run,
        },
        "metrics": metrics,
    }


# Keys of a run's ``metrics.json`` that describe the run, not the model's scores.
RUN_KEYS = (
    "data_package",
    "data_top_hash",
    "data_registry",
    "model_top_hash",
    "started",
    "finished",
    "epochs_run",
    "train_seconds",
)


def lineage_from_metrics(
    metrics: dict[str, Any],
    config: dict[str, Any],
    *,
    quality: dict[str, Any] | None = None,
    provenance: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The lineage of a finished run from its ``metrics.json`` and ``config.json`` contents.

    The one builder behind ``TrainingRun.lineage`` and :func:`run_lineage` (what is published).
    ``provenance`` is what the run recorded when it trained (``provenance.json``): its code,
    environment and data-quality verdict are the lineage's. Without it (a run trained before runs
    recorded it) they are this machine's now, and ``quality`` the data version's stored verdict
    (``quality.gate.quality_summary``), when known. A ``metrics.json`` without a ``finished`` time (an
    old or hand-edited run folder; runs write one) gives ``training.finished`` None, never a time made up.
    """
    if provenance is not None:
        quality = provenance.get("data_quality")
    scores = {k: v for k, v in metrics.items() if k not in RUN_KEYS}
    record = build_lineage(
        data_name=metrics["data_package"],
        data_top_hash=metrics["data_top_hash"],
        registry=metrics.get("data_registry") or "",
        config=config,
        metrics=scores,
        started=metrics.get("started") or "",
        finished=metrics.get("finished") or None,
        seconds=metrics.get("train_seconds") or 0.0,
        epochs_run=metrics.get("epochs_run") or 0,
        code=provenance["code"] if provenance is not None else None,
        environment=provenance["environment"] if provenance is not None else None,
    )
    if quality is not None:
        record["data"]["quality"] = quality
    return record


def run_lineage(folder: str | Path, *, quality: dict[str, Any] | None = None) -> dict[str, Any]:
    """The lineage a finished run folder is published with, from its ``metrics.json``, ``config.json``
    and ``provenance.json`` as written: the one builder behind ``pipeline.publish`` and ``fashion model
    push``, so a run gives one top hash whichever path, machine or commit publishes it (numbers a process
    still holds may differ in key order). ``quality`` serves only a folder without ``provenance.json``."""
    run = RunFolder(Path(folder))
    metrics, config = run.read_finished()
    check_run_metrics(run.metrics, metrics)  # a hand-edited value is named here, before anything is built
    return lineage_from_metrics(metrics, config, quality=quality, provenance=run.read_provenance())


def lineage_frame(meta: dict[str, Any]):
    """A lineage record as a two-column pandas DataFrame (``field``, ``value``), nested keys dotted."""
    import pandas as pd

    rows: list[tuple[str, Any]] = []

    def walk(prefix: str, value: Any) -> None:
        if isinstance(value, dict) and value:
            for key, inner in value.items():
                walk(f"{prefix}.{key}" if prefix else str(key), inner)
        else:
            rows.append((prefix, value))

    walk("", meta if isinstance(meta, dict) else {})
    return pd.DataFrame(rows, columns=["field", "value"])


def per_class_frame(metrics: dict[str, Any]):
    """Per-class test scores (precision, recall, F1, support) as a pandas DataFrame, one row per class.

    ``metrics`` is a ``metrics.json``, a lineage's ``metrics``, or a whole lineage record.
    """
    import pandas as pd

    scores = metrics.get("metrics", metrics) if isinstance(metrics, dict) else {}
    per_class = scores.get("per_class") if isinstance(scores, dict) else None
    if not isinstance(per_class, dict) or not per_class:
        raise ValueError("no per-class scores here (expected a 'per_class' mapping, as metrics.json holds)")
    frame = pd.DataFrame.from_dict(per_class, orient="index")
    frame.index.name = "class"
    return frame


def _quality(quality: Any) -> str:
    """One line on the data's quality report (``fashion data check``); a malformed record is shown as
    not readable, field by field, since a registry's lineage is whatever its publisher wrote."""
    if not quality:
        return "(no data-quality report recorded)"
    if not isinstance(quality, dict):
        return _unreadable(quality)
    failed, accepted = quality.get("failed"), quality.get("accepted")
    if failed and not (isinstance(failed, list) and all(isinstance(check, str) for check in failed)):
        failed = [_unreadable(failed)]
    failed_text = f"; failed: {', '.join(failed)}" if failed else ""
    accepted_text = f"; accepted: {_text(accepted)}" if accepted else ""
    return f"{_text(quality.get('verdict'))} against {_text(quality.get('reference'))}{failed_text}{accepted_text}"


def _text(value: Any) -> str:
    """A recorded text field as ``describe`` shows it."""
    return value if isinstance(value, str) else "(not recorded)" if value is None else _unreadable(value)


def _score(value: Any) -> str:
    """A recorded accuracy or loss as ``describe`` shows it (a bool or a string is no score)."""
    return f"{value:.4f}" if is_number(value) else "(not recorded)" if value is None else _unreadable(value)


def _unreadable(value: Any) -> str:
    """A malformed recorded value, shown (cut short) and said to be so."""
    return f"(not readable: {shown_value(value)})"


def recorded_registry(where: Any) -> str:
    """The data's registry as the lineage recorded it on the publishing machine (a path there, or a
    URL). A recorded folder that is not here is shown whole and said to be missing, never made relative
    to this machine's folders; one that is here is shown as this machine shows its paths (``./registry``)."""
    if not where or not isinstance(where, str):
        return "(none recorded)"
    said = f"as recorded on the publishing machine: {where}"
    if "://" in where:
        return said
    if not os.path.isabs(where):
        return f"{said} (a relative path: from the folder it was published in)"
    if registry_here(where):
        return f"{display_path(where)} (as recorded when published; this machine has that folder)"
    if _out_of_reach(where):
        return f"{said} (it may be on this machine: a folder on its way is closed to you)"
    return f"{said} (no such folder on this machine)"


def _out_of_reach(where: str) -> bool:
    """Whether ``where`` can't be looked at for want of permission (a folder on its way not searchable by
    this user), which ``os.path.isdir`` reports as if nothing were there."""
    try:
        os.stat(where)
    except PermissionError:
        return True
    except (OSError, ValueError):
        return False
    return False


def registry_here(where: Any) -> bool:
    """Whether this machine reaches a registry the lineage records: an ``s3://`` URL, or an absolute
    folder that exists here (a relative path is the publishing machine's, never taken for one here)."""
    return isinstance(where, str) and (where.startswith("s3://") or (os.path.isabs(where) and os.path.isdir(where)))


def _when(value: Any) -> str:
    """A recorded time as ``describe`` shows it; one the lineage does not hold is said so."""
    return value if isinstance(value, str) and value else "(not recorded)"


def describe(name: str, top_hash: str, meta: dict[str, Any]) -> str:
    """A few readable lines saying where a model came from."""

    def part(key: str) -> dict[str, Any]:  # missing or mangled parts read as empty
        value = meta.get(key) if isinstance(meta, dict) else None
        return value if isinstance(value, dict) else {}

    data, code, env, training, metrics = (part(k) for k in ("data", "code", "environment", "training", "metrics"))
    dirty = " (uncommitted changes)" if code.get("dirty") is True else ""
    recorded = meta.get("metrics") if isinstance(meta, dict) else None
    accuracy, loss = metrics.get("test_accuracy"), metrics.get("test_loss")
    if recorded is not None and not isinstance(recorded, dict):
        scores = _unreadable(recorded)
    elif accuracy is None and loss is None:
        scores = "(none recorded)"
    else:
        scores = f"test accuracy {_score(accuracy)}, test loss {_score(loss)}"
    lines = [
        f"model     {name}@{short(top_hash)}",
        f"data      {data.get('name')}@{short(data.get('top_hash'))}",
        f"registry  {recorded_registry(data.get('registry'))}",
        f"quality   {_quality(data.get('quality'))}",
        f"code      commit {code.get('commit') or 'unknown'}{dirty}, fashion_lib {code.get('version')}",
        f"env       requirements.txt sha256 {short(env.get('requirements_sha256'))}, python {env.get('python')}, "
        f"{env.get('tensorflow_distribution') or 'tensorflow'} {env.get('tensorflow')}, keras {env.get('keras')}",
        f"trained   {_when(training.get('started'))} .. {_when(training.get('finished'))} "
        f"({training.get('seconds')} s, {training.get('epochs_run')} epoch{'' if training.get('epochs_run') == 1 else 's'})",
        f"config    {brief(training.get('config'))}",
        f"metrics   {scores}",
    ]
    return "\n".join(lines)
