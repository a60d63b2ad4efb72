"""The main job in steps: data -> train -> evaluate -> save -> publish (-> reproduce).

``train.ipynb`` calls the steps one at a time, with a picture after each; ``fashion run`` and
``fashion train`` make one call, :func:`run`, which decides whether training is needed at all.
The decisions live in the library, not in the CLI: :func:`config_from_parameters`
(:mod:`fashion_lib.parameters`) builds the config from any source, :func:`run` says up to date
(:mod:`fashion_lib.up_to_date`) or trains (:mod:`fashion_lib.run_steps`), :func:`push_run_folder`
publishes a finished run with the same lineage a run builds, :func:`reproduce`
(:mod:`fashion_lib.reproduce`) retrains from a recorded lineage. This module is the face the
notebooks and the CLI use: every step is importable from here.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from .config import TrainConfig
from .console import Log
from .console import stderr as _stderr
from .data import ensure_data_package
from .evaluate import test_metrics
from .parameters import config_from_parameters, model_package_name, parse_assignments
from .reproduce import REPRODUCTION_TOLERANCE, Reproduction, compare, judge, reproduce, run_differences
from .run_publish import push_run_folder
from .run_steps import (
    assess,
    evaluate_model,
    fit,
    prepare_run,
    publish,
    report,
    train_evaluate_publish,
)
from .training.cluster import cluster_from_environment
from .training_run import TrainingRun
from .up_to_date import UpToDate, up_to_date_model

if TYPE_CHECKING:
    from .registry import RegistryLike

__all__ = [
    "REPRODUCTION_TOLERANCE",
    "Reproduction",
    "TrainingRun",
    "UpToDate",
    "assess",
    "compare",
    "config_from_parameters",
    "evaluate_model",
    "fit",
    "judge",
    "parse_assignments",
    "prepare_run",
    "publish",
    "push_run_folder",
    "report",
    "reproduce",
    "run",
    "run_differences",
    "test_metrics",
    "train_evaluate_publish",
    "up_to_date_model",
]


def run(
    config: TrainConfig,
    *,
    force: bool = False,
    push: bool = True,
    registry: RegistryLike = None,
    data_package: str | None = None,
    data_top_hash: str | None = None,
    model_package: str | None = None,
    output_dir: str | Path | None = None,
    strategy: Any = None,
    log: Log = _stderr,
) -> TrainingRun | UpToDate:
    """The main job (``fashion run``; ``fashion train`` is ``force=True``, ``push`` as asked).

    Unless ``force`` or a ``data_top_hash`` is given, the latest data version is made sure of
    first, and if the latest model came from exactly it, this config, environment and clean
    commit, nothing is trained: the answer is :class:`UpToDate`.
    """
    cluster_from_environment()  # a bad TF_CONFIG is one line before anything is prepared
    if push:
        model_package_name(model_package)  # a bad name is one line before the data is made sure of
    if not force and not data_top_hash:
        data_top_hash = ensure_data_package(registry=registry, name=data_package, log=log)
        found = up_to_date_model(config, data_top_hash, registry=registry, name=model_package)
        if found:
            log(
                "Up to date: the latest model was trained from this data, config, environment and commit "
                "(--force retrains)"
            )
            return UpToDate(model_top_hash=found[0], data_top_hash=data_top_hash, lineage=found[1])
    return train_evaluate_publish(
        config,
        registry=registry,
        data_package=data_package,
        data_top_hash=data_top_hash,
        model_package=model_package,
        output_dir=output_dir,
        push=push,
        strategy=strategy,
        log=log,
    )
