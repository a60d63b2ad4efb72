"""The values a recorded lineage must hold for ``fashion reproduce`` to use it.

:func:`fashion_lib.model_package.check_lineage` checks the lineage's shape (``data``,
``training.config`` and ``metrics`` present); this module checks what those hold.
"""

from __future__ import annotations

import math
from typing import Any

from .console import short


def check_reproducible(name: str, top_hash: str, meta: dict[str, Any]) -> None:
    """Refuse a lineage whose recorded values ``fashion reproduce`` cannot use, before anything trains.

    The shape (``data``, ``training.config``, ``metrics`` present) is
    :func:`fashion_lib.model_package.check_lineage`'s; this checks the values: the data package's
    name and full top hash, and the recorded test accuracy a reproduction is judged against. A
    :class:`~fashion_lib.errors.ModelError` names the version and the field, never the user's input.
    """
    from .errors import ModelError, RegistryError
    from .registry.manifest import TOP_HASH
    from .registry.names import check_stored_name

    def refuse(field: str, value: Any, expected: str) -> ModelError:
        shown = "missing" if value is None else repr(value)
        return ModelError(
            f"{name}@{short(top_hash)}: its lineage's {field} is {shown}; expected {expected}; it cannot be reproduced"
        )

    data, metrics = meta["data"], meta["metrics"]
    try:
        check_stored_name(data["name"])  # as a registry reads names: one published before stays usable
    except RegistryError:
        raise refuse("data.name", data["name"], "a package name 'owner/name' (letters, digits, _ and -)") from None
    if not TOP_HASH.fullmatch(data["top_hash"]):
        raise refuse("data.top_hash", data["top_hash"], "a top hash (64 hexadecimal digits)")
    accuracy = metrics.get("test_accuracy")
    if not (_is_number(accuracy) and 0 <= accuracy <= 1):
        raise refuse("metrics.test_accuracy", accuracy, "the recorded test accuracy, a number from 0 to 1")
    for key in ("test_accuracy_single_view", "test_loss"):  # shown beside the reproduced ones
        if metrics.get(key) is not None and not _is_number(metrics[key]):
            raise refuse(f"metrics.{key}", metrics[key], "a number")


def _is_number(value: Any) -> bool:
    """A finite int or float (not a bool)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
