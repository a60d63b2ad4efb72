"""The main job's steps: prepare (data) -> fit -> assess -> publish, and the whole job in a row.

``train.ipynb`` calls the steps one at a time, with a picture after each; :func:`fashion_lib.pipeline.run`
calls :func:`train_evaluate_publish` when training is needed; :mod:`fashion_lib.run_publish`
publishes a run's folder. The run itself is a :class:`fashion_lib.training_run.TrainingRun`. Outputs land in
``output_dir``, named by
:mod:`fashion_lib.runfolder`: ``clf.keras``, ``history.csv``/``history.json``, ``config.json``
and ``metrics.json``.
"""

from __future__ import annotations

import os
import time
import weakref
from contextlib import nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import provenance, settings
from .config import TrainConfig
from .console import Log
from .console import stderr as _stderr
from .data import load_data
from .errors import ConfigError, DestinationError, ModelError, RegistryError, expect
from .evaluate import chance_warning, report
from .lineage import now
from .precision import AUTO, FLOAT32, float32_note, resolve
from .quality.gate import ensure_quality, quality_summary
from .quality.reference import META_KEY
from .run_publish import kept_for_later, publish_folder, refuse_unpublishable
from .runfolder import Claim, RunFolder, write_json
from .training.cluster import cluster_from_environment
from .training_run import TrainingRun

if TYPE_CHECKING:
    from .registry import RegistryLike

A_RUN = "the TrainingRun that pipeline.prepare_run returns"


def evaluate_model(
    *,
    model_file: str | Path | None = None,
    model_package: str | None = None,
    top_hash: str | None = None,
    data_package: str | None = None,
    data_top_hash: str | None = None,
    registry: RegistryLike = None,
    tta: bool = False,
):
    """Score a model (a file, else a model package version) on a data package's test set."""
    from .evaluate import evaluate
    from .model_package import load_model

    model = load_model(model_package, top_hash, registry=registry, model_file=model_file)
    data = load_data(registry=registry, name=data_package, top_hash=data_top_hash, bootstrap=True)
    return evaluate(model, data.test, tta=tta)  # shipped models average their views inside


def _new_run_folder(stem: str) -> RunFolder:
    """A new run folder in the default outputs folder; one that can't be made says where else to put it."""
    try:
        return RunFolder.new(settings.output_dir(), stem)
    except DestinationError as exc:
        chosen = os.environ.get("FASHION_OUTPUT_DIR", "").strip()
        if chosen and str(exc).startswith("FASHION_OUTPUT_DIR="):  # settings.output_dir's line names it already
            raise
        where = f"another FASHION_OUTPUT_DIR (it is {chosen!r})" if chosen else "FASHION_OUTPUT_DIR or FASHION_HOME"
        raise DestinationError(
            f"{exc}; choose the run's folder with --output-dir (a notebook's output_dir), or set {where}"
        ) from None


def prepare_run(
    config: TrainConfig,
    *,
    registry: RegistryLike = None,
    data_package: str | None = None,
    data_top_hash: str | None = None,
    output_dir: str | Path | None = None,
    log: Log = _stderr,
) -> TrainingRun:
    """Validate the config, then fetch, verify and validate the data (bootstrapping it if needed); the run trains
    with ``config.resolved()`` (``precision="auto"``: this machine's, said in a note where that is float32).

    An ``output_dir`` given is made by the run's first file, so a failed run leaves none, and one
    that already holds a run's files is refused (a new run would overwrite them). Without one, the
    run claims a new ``run-TIME`` folder (``-2``, ``-3``... when a run of the same second has one)
    by making it, empty: it is removed if preparing or fitting fails, or if the run is dropped
    unfitted (the process exits, a notebook's cell prepares another). Only the chief of a ``TF_CONFIG``
    cluster claims one: the other workers write nothing, and make no folder."""
    expect(config, TrainConfig, "pipeline.prepare_run: config", "a TrainConfig: pipeline.config_from_parameters(...)")
    expect(output_dir, (str, os.PathLike, type(None)), "pipeline.prepare_run: output_dir", "a folder path, or None")
    expect(
        data_top_hash,
        (str, type(None)),
        "pipeline.prepare_run: data_top_hash",
        "a top hash or a unique prefix of one (hex digits), or None",
    )
    config.validate().check_split()
    cluster = cluster_from_environment()  # a bad TF_CONFIG is one line, before any data is loaded
    claim, stem = not output_dir and (cluster is None or cluster.chief), time.strftime("run-%Y%m%d-%H%M%S")
    if output_dir:
        folder = RunFolder(Path(output_dir))
        folder.check_new()
    elif claim:  # claimed now: two runs started in the same second never share it
        folder = _new_run_folder(stem)
    else:  # another worker of a cluster: it writes nothing, so it makes (and takes) no folder
        folder = RunFolder(settings.output_dir() / stem)
    with folder.removed_if_unfinished() if claim else nullcontext():  # a claimed folder goes with a failure
        data = load_data(registry=registry, name=data_package, top_hash=data_top_hash, bootstrap=True)
        config.check_split(len(data.train))  # a data version with fewer images than the split
        checked = ensure_quality(data)  # the data-quality circuit breaker: the version's stored report, or a check now
    verdict = quality_summary({META_KEY: checked.summary()}) if checked is not None else None
    computed, why = resolve(config.precision)  # config.resolved(), keeping the reason for the note
    run = TrainingRun(
        config=config.replace(precision=computed), data=data, output_dir=folder.path, checked_quality=verdict
    )
    if config.precision == AUTO and computed == FLOAT32:  # the default recipe where bfloat16 is slow
        log(f"note: {float32_note(why)}")
    if claim:
        run.claim = Claim(folder, stem)
        weakref.finalize(run, run.claim.release)  # dropped before it wrote anything: no empty folder left
    return run


def fit(run: TrainingRun, *, strategy: Any = None, verbose: int = 1) -> TrainingRun:
    """Train on the run's data; ``clf.keras`` in the output folder is the model as shipped: the
    trained network wrapped with its test-time views (:func:`fashion_lib.model.export_model`).

    A run is fitted once: fitting a trained run again is a DestinationError (start a new run). A fit that
    fails or is interrupted removes the files it wrote (and the folder, if it made it). Fitting it again (a
    notebook's fit cell rerun after fixing the mistake) trains, as that user expects: a run-TIME folder given
    back is claimed again, its name if free, else the next (a newer run of that second may hold it now).
    Before training, ``provenance.json`` records the code, environment, machine and the data's quality
    verdict: what the model package's lineage says, wherever and whenever the run is published."""
    expect(run, TrainingRun, "pipeline.fit: run", A_RUN)
    from .model import export_model, save_model
    from .train import is_chief, train

    strategy = _strategy(run, strategy)
    run.chief, run.distributed = is_chief(strategy), strategy.num_replicas_in_sync > 1
    if run.chief and run.claim is not None:  # never the folder a newer run claimed once a failed fit gave it back
        run.output_dir = run.claim.renew().path
    _check_not_fitted(run)
    run.provenance = provenance.record(run.data_quality())
    with run.folder.removed_if_unfinished() if run.chief else nullcontext():
        if run.chief:
            write_json(run.folder.provenance, run.provenance)
        result = train(
            run.config,
            run.data.train,
            output_dir=run.output_dir if run.chief else None,
            strategy=strategy,
            verbose=verbose,
        )
        if run.chief:
            save_model(export_model(result.model, run.config), run.model_path)
    run.result, run.model = result, result.model
    return run


def _strategy(run: TrainingRun, strategy: Any) -> Any:
    """``strategy``, else the environment's. Where that makes a cluster's workers wait for each other, Ctrl-C
    ends the process outright (:func:`fashion_lib.training.strategy.interruptible`), past any cleanup: so the
    run's empty ``run-TIME`` folder is given back for the wait and claimed again after it (the same name
    where still free), and an interrupted wait leaves no folder behind."""
    from .train import strategy_from_environment

    if strategy is not None:
        return strategy
    cluster = cluster_from_environment()
    claim = run.claim if cluster is not None and cluster.size > 1 else None
    if claim is not None:
        claim.release()
    strategy = strategy_from_environment()
    if claim is not None:
        run.output_dir = claim.renew().path
    return strategy


def _check_not_fitted(run: TrainingRun) -> None:
    """DestinationError unless the run is still to be trained: a run is fitted once, so its folder's
    files (and a version published from them) never disagree; a new try is a new run."""
    if run.result is not None or (run.chief and run.folder.model.exists()):
        raise DestinationError(
            f"run folder {run.output_dir}: this run is already trained ({run.folder.model.name}); start a new run "
            "with pipeline.prepare_run (in a notebook: run its cell again, output_dir None or a new folder)"
        )
    if run.chief:
        run.folder.check_new()  # another process wrote there since prepare_run


def assess(run: TrainingRun, *, log: Log = _stderr) -> TrainingRun:
    """Score the shipped file on the official test set; write ``metrics.json`` (chief only). A score at
    chance level (:func:`~fashion_lib.evaluate.chance_warning`) is said in one warning line through ``log``.

    The recorded accuracy is what plain Keras gives on ``clf.keras`` as saved: the file is
    loaded back (``keras.models.load_model``, safe mode) and run with ``model.predict`` at the
    default batch size, argmax. The trained network alone, on the unaltered images, is kept
    as ``test_accuracy_single_view``.
    """
    expect(run, TrainingRun, "pipeline.assess: run", A_RUN)
    from .evaluate import evaluate
    from .model import load_model_file, network_of

    if not run.chief:
        return run
    if not run.model_path.exists():
        raise ModelError(
            f"run folder {run.output_dir}: no {run.model_path.name} to assess; train the run first: pipeline.fit(run)"
        )
    # Score the shipped file in this process alone (no replicas, so no collectives with workers
    # that have finished), and its network without the views it averages, from the same file.
    shipped = load_model_file(run.model_path)
    run.evaluation = evaluate(shipped, run.data.test)
    run.single_view_accuracy = evaluate(network_of(shipped), run.data.test).accuracy
    run.finished = now()
    write_json(run.folder.metrics, run.metrics())
    warning = chance_warning(run.evaluation.confusion, run.evaluation.class_names)
    if warning:  # the run is kept, and published if asked: only said
        log(warning)
    return run


def publish(
    run: TrainingRun, *, registry: RegistryLike = None, name: str | None = None, log: Log = _stderr
) -> str | None:
    """Publish the model package with its lineage; ``metrics.json`` gets the top hash (chief only).

    Publishing an unchanged run again gives the same top hash: the package's ``metrics.json``
    never holds it (a version cannot name itself)."""
    expect(run, TrainingRun, "pipeline.publish: run", A_RUN)
    if not run.chief:
        return None
    quality, to = run.data_quality, registry or run.data.registry  # quality: read only without provenance.json
    try:
        run.model_top_hash = publish_folder(run.folder, quality, registry=to, name=name, log=log)
    except (RegistryError, ConfigError) as exc:  # the run folder is whole (assessed): the line says how to publish it
        raise kept_for_later(exc, run.output_dir, to, name) from exc
    write_json(run.folder.metrics, run.metrics())
    return run.model_top_hash


def train_evaluate_publish(
    config: TrainConfig,
    *,
    registry: RegistryLike = None,
    data_registry: RegistryLike = None,
    data_package: str | None = None,
    data_top_hash: str | None = None,
    model_package: str | None = None,
    output_dir: str | Path | None = None,
    push: bool = True,
    strategy: Any = None,
    log: Log = _stderr,
) -> TrainingRun:
    """The whole job, in a row; a bad model package name is refused before anything is loaded. The data
    comes from ``data_registry`` where given (``reproduce``), else ``registry``; the model goes to ``registry``,
    and a local one this process can't publish to is refused first, as ``data prepare`` refuses."""
    if push:
        refuse_unpublishable(registry, model_package)
    source = registry if data_registry is None else data_registry
    run = prepare_run(
        config, registry=source, data_package=data_package, data_top_hash=data_top_hash, output_dir=output_dir, log=log
    )
    log(f"Data: {run.data.describe()}; outputs: {run.output_dir}")
    from .train import is_chief

    said = run.output_dir
    strategy = _strategy(run, strategy)
    if run.output_dir != said:  # given back for the cluster's wait, and the name taken meanwhile: the one it writes
        log(f"outputs: {run.output_dir} instead (another run took {said.name} while this one waited for its workers)")
    if not is_chief(strategy):  # the other workers write nothing
        fit(run, strategy=strategy)
        log("Training done on this worker; the chief evaluates and publishes.")
        return run
    run.folder.check_new()  # still no run there, now that the data is loaded: what fails next is ours to remove
    warnings: list[str] = []
    with run.folder.removed_if_unfinished():  # a trained model without its metrics is no finished run
        fit(run, strategy=strategy)
        assess(run, log=warnings.append)
    for line in [report(run.evaluation), *warnings]:  # a chance-level warning after the scores, before publishing
        log(line)
    if push:  # the model goes to ``registry`` (publish's default, the data's, only where no data_registry is given)
        from . import registry as reg

        publish(run, registry=registry if data_registry is None else reg.open(registry), name=model_package, log=log)
    return run
