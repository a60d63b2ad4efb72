"""The values a recorded lineage must hold for ``fashion reproduce`` to use it, and a run's
``metrics.json`` before it is published.

:func:`fashion_lib.model_package.check_lineage` checks the lineage's shape (``data``,
``training.config`` and ``metrics`` present); this module checks what those hold. The same rules
check a run's ``metrics.json`` before it is published (:func:`check_run_metrics`, with what the
model card and the registry's JSON need besides), so a version ``fashion model push`` publishes is
one ``fashion reproduce`` accepts.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from .console import short

# (field, the value found, what was expected): the first value a lineage holds that reproduce cannot use.
Problem = tuple[str, Any, str]


def check_reproducible(name: str, top_hash: str, meta: dict[str, Any]) -> None:
    """Refuse a lineage whose recorded values ``fashion reproduce`` cannot use, before anything trains.

    The shape (``data``, ``training.config``, ``metrics`` present) is
    :func:`fashion_lib.model_package.check_lineage`'s; this checks the values (:func:`lineage_problem`).
    A :class:`~fashion_lib.errors.ModelError` names the version and the field, never the user's input.
    """
    from .errors import ModelError

    problem = lineage_problem(meta)
    if problem is not None:
        field, value, expected = problem
        shown = "missing" if value is None else repr(value)
        raise ModelError(
            f"{name}@{short(top_hash)}: its lineage's {field} is {shown}; expected {expected}; it cannot be reproduced"
        )


def lineage_problem(meta: dict[str, Any]) -> Problem | None:
    """The first recorded value ``fashion reproduce`` cannot use, or None: the data package's name and
    full top hash, the recorded test accuracy a reproduction is judged against (a number from 0 to 1),
    and, where recorded, the single-view accuracy (0 to 1) and loss (0 or more) shown beside the reproduced ones."""
    from .errors import RegistryError
    from .registry.manifest import TOP_HASH
    from .registry.names import check_stored_name

    data, metrics = (meta.get(key) if isinstance(meta.get(key), dict) else {} for key in ("data", "metrics"))
    try:
        check_stored_name(data.get("name"))  # as a registry reads names: one published before stays usable
    except RegistryError:
        return "data.name", data.get("name"), "a package name 'owner/name' (letters, digits, _ and -)"
    top_hash = data.get("top_hash")
    if not (isinstance(top_hash, str) and TOP_HASH.fullmatch(top_hash)):
        return "data.top_hash", top_hash, "a top hash (64 hexadecimal digits)"
    accuracy = metrics.get("test_accuracy")
    if not (is_number(accuracy) and 0 <= accuracy <= 1):
        return "metrics.test_accuracy", accuracy, "the recorded test accuracy, a number from 0 to 1"
    single, loss = metrics.get("test_accuracy_single_view"), metrics.get("test_loss")  # shown beside the reproduced
    if single is not None and not (is_number(single) and 0 <= single <= 1):
        return "metrics.test_accuracy_single_view", single, "a number from 0 to 1"
    if loss is not None and not (is_number(loss) and loss >= 0):
        return "metrics.test_loss", loss, "a number, 0 or more"
    return None


def is_number(value: Any) -> bool:
    """A finite int or float (not a bool)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


# The lineage's fields that metrics.json holds under other names (``metrics.X`` is ``X``).
SOURCE_KEYS = {"data.name": "data_package", "data.top_hash": "data_top_hash"}
SCORES = ("precision", "recall", "f1")  # per class, as the model card shows them


def check_run_metrics(path: Path, metrics: dict[str, Any]) -> None:
    """ConfigError naming ``path``, the field and what was expected, unless ``metrics`` (the run's
    ``metrics.json``) holds what a published model package records: the values ``fashion reproduce``
    uses, per-class scores, the run's duration and times, and no NaN or infinity anywhere."""
    from .errors import ConfigError

    problem = metrics_problem(metrics)
    if problem is not None:
        field, value, expected = problem
        shown = "missing" if value is None else shown_value(value)
        raise ConfigError(f"{path}: {field} is {shown}; expected {expected}")


def metrics_problem(metrics: dict[str, Any]) -> Problem | None:
    """(field of metrics.json, value, what was expected) for the first value not publishable, or None."""
    meta = {"data": {"name": metrics.get("data_package"), "top_hash": metrics.get("data_top_hash")}, "metrics": metrics}
    problem = lineage_problem(meta)  # what reproduce would refuse, under metrics.json's names
    if problem is not None:
        field, value, expected = problem
        return SOURCE_KEYS.get(field, field.removeprefix("metrics.")), value, expected
    return _per_class_problem(metrics.get("per_class")) or _run_problem(metrics) or _non_finite("", metrics)


def _per_class_problem(per_class: Any) -> Problem | None:
    """Per-class scores, where recorded: class name -> precision, recall and F1 from 0 to 1 (and a count)."""
    if per_class is None:
        return None
    if not isinstance(per_class, dict):
        return "per_class", per_class, "a mapping of class name to its precision, recall and f1"
    for name, scores in per_class.items():
        if not isinstance(scores, dict):
            return f"per_class.{name}", scores, "a mapping of precision, recall and f1"
        for key in SCORES:
            if not (is_number(scores.get(key)) and 0 <= scores[key] <= 1):
                return f"per_class.{name}.{key}", scores.get(key), "a number from 0 to 1"
        support = scores.get("support")
        if support is not None and not (is_number(support) and support == int(support) and support >= 0):
            return f"per_class.{name}.support", support, "a count of test images, a whole number"
    return None


def _run_problem(metrics: dict[str, Any]) -> Problem | None:
    """The run's duration, epochs and times (each may be absent or null)."""
    seconds, epochs = metrics.get("train_seconds"), metrics.get("epochs_run")
    if seconds is not None and not (is_number(seconds) and seconds >= 0):
        return "train_seconds", seconds, "the training time in seconds, a number, 0 or more"
    if epochs is not None and not (isinstance(epochs, int) and not isinstance(epochs, bool) and epochs >= 0):
        return "epochs_run", epochs, "the number of epochs run, a whole number"
    for key in ("started", "finished", "data_registry"):
        if metrics.get(key) is not None and not isinstance(metrics[key], str):
            return key, metrics[key], "a string or null"
    return None


def _non_finite(field: str, value: Any) -> Problem | None:
    """The first NaN or infinity in ``value`` (JSON has none, so no registry can record it)."""
    if isinstance(value, float) and not is_number(value):
        return field, value, "a finite number (JSON has no NaN or Infinity)"
    inner = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, item in inner:
        inner_field = f"{field}[{key}]" if isinstance(key, int) else f"{field}.{key}" if field else str(key)
        found = _non_finite(inner_field, item)
        if found:
            return found
    return None


def shown_value(value: Any, limit: int = 60) -> str:
    """``repr(value)``, cut short: a hand-edited field may hold a whole document."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
