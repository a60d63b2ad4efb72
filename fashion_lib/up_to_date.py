"""Is training needed at all? The latest model package, if it came from exactly these inputs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from . import settings
from .config import TrainConfig

if TYPE_CHECKING:
    from .registry import RegistryLike


@dataclass(frozen=True)
class UpToDate:
    """What ``run`` found instead of training: the latest model already came from these inputs."""

    model_top_hash: str
    data_top_hash: str
    lineage: dict[str, Any]

    @property
    def test_accuracy(self) -> float:
        return self.lineage["metrics"]["test_accuracy"]


def up_to_date_model(
    config: TrainConfig, data_top_hash: str, *, registry: RegistryLike = None, name: str | None = None
) -> tuple[str, dict[str, Any]] | None:
    """The latest model package, if it came from exactly this data version, config, pinned
    environment and (clean) commit: then training again would add nothing. Else None."""
    from . import registry as reg
    from .errors import PackageNotFound
    from .provenance import code_state, environment_state

    try:  # only "no model yet" means train; an unreachable or damaged registry is an error
        top_hash, meta, _ = reg.read_meta(name or settings.model_package(), registry=registry)
    except PackageNotFound:
        return None
    if not all(isinstance(meta.get(k, {}), dict) for k in ("code", "data", "environment", "training")):
        return None  # lineage we cannot compare: train
    code = code_state()
    recorded = meta.get("code", {})
    same = (
        code["commit"]
        and code["dirty"] is False
        and recorded.get("commit") == code["commit"]
        and recorded.get("dirty") is False
        and meta.get("data", {}).get("top_hash") == data_top_hash
        and meta.get("environment", {}).get("requirements_sha256") == environment_state()["requirements_sha256"]
        and meta.get("training", {}).get("config") == config.resolved().to_dict()  # as a run records it
    )
    return (top_hash, meta) if same else None
