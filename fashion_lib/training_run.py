"""One training run's record: what went in, what came out, and where it was written (:class:`TrainingRun`).

:mod:`fashion_lib.run_steps` makes and advances it: prepare -> fit -> assess -> publish.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .config import TrainConfig
from .data import DataVersion
from .evaluate import test_metrics
from .lineage import lineage_from_metrics, now
from .quality.gate import quality_summary
from .runfolder import Claim, RunFolder


@dataclass
class TrainingRun:
    """One training run: what went in, what came out, and where it was written."""

    config: TrainConfig
    data: DataVersion
    output_dir: Path
    model: Any = None
    result: Any = None  # fashion_lib.train.TrainResult
    evaluation: Any = None  # fashion_lib.evaluate.Evaluation
    started: str = field(default_factory=now)
    finished: str | None = None
    model_top_hash: str | None = None
    single_view_accuracy: float | None = None  # the trained network alone, without test-time views
    chief: bool = True  # False on the other workers of a multi-worker run: they write nothing
    distributed: bool = False  # trained over several replicas
    provenance: dict[str, Any] | None = None  # code, environment, data verdict when fit started (provenance.json)
    checked_quality: dict[str, Any] | None = None  # the verdict prepare_run's check gave (quality_summary's shape)
    claim: Claim | None = None  # on the run-TIME folder prepare_run made (None: output_dir given, or not the chief)

    @property
    def folder(self) -> RunFolder:
        return RunFolder(self.output_dir)

    @property
    def model_path(self) -> Path:
        return self.folder.model

    def metrics(self) -> dict[str, Any]:
        """The run's key numbers, as written to ``metrics.json``."""
        metrics: dict[str, Any] = {
            "data_package": self.data.name,
            "data_top_hash": self.data.top_hash,
            "data_registry": self.data.registry,
            "model_top_hash": self.model_top_hash,
            "started": self.started,
            "finished": self.finished,
        }
        if self.result is not None:
            metrics.update(epochs_run=self.result.epochs_run, train_seconds=round(self.result.train_seconds, 1))
        if self.evaluation is not None:
            metrics.update(test_metrics(self.evaluation))
        if self.single_view_accuracy is not None:
            metrics["test_accuracy_single_view"] = self.single_view_accuracy
        return metrics

    def lineage(self) -> dict[str, Any]:
        """The model package's lineage: the code, environment and data-quality verdict recorded when the run
        was fitted (before that, this machine's now and :meth:`data_quality`)."""
        quality = self.data_quality()
        return lineage_from_metrics(self.metrics(), self.config.to_dict(), quality=quality, provenance=self.provenance)

    def data_quality(self) -> dict[str, Any] | None:
        """The data's quality verdict: the version's stored one, else the one :func:`prepare_run` computed
        checking a version that has none (None only for a run whose data was never checked)."""
        return quality_summary(self.data.meta) or self.checked_quality
