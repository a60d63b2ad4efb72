"""The one config builder, for every source: CLI flags, notebook parameters, a recorded config."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .config import TrainConfig
from .errors import ConfigError


def config_from_parameters(
    preset: str = "default",
    *,
    recorded: dict[str, Any] | None = None,
    assignments: Iterable[str] = (),
    **overrides: Any,
) -> TrainConfig:
    """The one config builder, for every source: CLI flags, notebook parameters, a recorded config.

    Starts from ``recorded`` (a ``config.json`` or a lineage's ``training.config``) if given, else
    from the preset; then applies ``assignments`` (``"KEY=VALUE"`` strings, as ``--set`` gives them,
    values read as Python literals) and ``overrides``, where ``None`` means "keep the value" and
    ``limit=0`` means "all images" (None), whichever source it came from.

    A small ``limit`` given without ``validation_size`` shrinks the validation split to a fifth of
    the subset when the split would take half of it or more (``limit=2000``: 400 held out), so a
    quick try on a subset works with any preset.
    """
    chosen = {**parse_assignments(assignments), **{k: v for k, v in overrides.items() if v is not None}}
    if chosen.get("limit") == 0 and not isinstance(chosen.get("limit"), bool):
        chosen["limit"] = None  # "0: all images", for every preset and source
    if recorded is not None:
        config = TrainConfig.from_dict({**recorded, **chosen})
    else:
        config = TrainConfig.from_preset(preset, **chosen)
    limit = chosen.get("limit")
    if (
        "validation_size" not in chosen
        and isinstance(limit, int)
        and not isinstance(limit, bool)
        and 0 < limit <= 2 * config.validation_size
    ):
        config = config.replace(validation_size=limit // 5)
    return config


def parse_assignments(items: Iterable[str]) -> dict[str, Any]:
    """``["dropout=0.3", "optimizer=adam"]`` -> ``{"dropout": 0.3, "optimizer": "adam"}``."""
    import ast

    parsed: dict[str, Any] = {}
    for item in items or ():
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"--set {item!r}: expected KEY=VALUE, e.g. --set dropout=0.3")
        try:
            parsed[key.strip()] = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            parsed[key.strip()] = value
    return parsed
