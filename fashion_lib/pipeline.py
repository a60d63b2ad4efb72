"""The main job in steps: data -> train -> evaluate -> save -> publish (-> reproduce).

``train.ipynb`` calls the steps one at a time, with a picture after each; ``fashion run`` and
``fashion train`` make one call, :func:`run`, which decides whether training is needed at all.
The decisions live here, not in the CLI: :func:`config_from_parameters` builds the config from
any source, :func:`run` says up to date or trains, :func:`push_run_folder` publishes a finished
run with the same lineage a run builds. Outputs land in ``output_dir``, named by
:mod:`fashion_lib.runfolder`: ``clf.keras``, ``history.csv``/``history.json``, ``config.json``
and ``metrics.json``.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import settings
from .config import TrainConfig
from .console import Log, short
from .console import stderr as _stderr
from .data import DataVersion, ensure_data_package, load_data
from .errors import ConfigError
from .lineage import lineage_from_metrics, now
from .model_package import publish_model, read_lineage, write_json
from .quality.gate import ensure_quality, quality_summary
from .runfolder import RunFolder

if TYPE_CHECKING:
    from .registry import RegistryLike


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
        """The model package's lineage (the data version's stored quality verdict included)."""
        return lineage_from_metrics(self.metrics(), self.config.to_dict(), quality=quality_summary(self.data.meta))


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


def test_metrics(evaluation: Any) -> dict[str, Any]:
    """Test-set numbers under the names the notebooks, README and lineage use."""
    scores = evaluation.to_dict(max_misclassified=0)
    scores.pop("misclassified")
    return {"test_accuracy": scores.pop("accuracy"), "test_loss": scores.pop("loss"), **scores}


def report(evaluation: Any) -> str:
    """A short text report of an evaluation."""
    lines = [
        f"test accuracy {evaluation.accuracy:.4f}, loss {evaluation.loss:.4f}"
        f"{' (flip TTA)' if evaluation.tta else ''}, {len(evaluation.misclassified)} mistakes",
        f"{'class':<12} {'precision':>9} {'recall':>7} {'f1':>6}",
    ]
    for name, p, r, f in zip(evaluation.class_names, evaluation.precision, evaluation.recall, evaluation.f1):
        lines.append(f"{name:<12} {p:>9.3f} {r:>7.3f} {f:>6.3f}")
    return "\n".join(lines)


def prepare_run(
    config: TrainConfig,
    *,
    registry: RegistryLike = None,
    data_package: str | None = None,
    data_top_hash: str | None = None,
    output_dir: str | Path | None = None,
) -> TrainingRun:
    """Validate the config, then fetch, verify and validate the data (bootstrapping it if needed)."""
    config.validate()
    data = load_data(registry=registry, name=data_package, top_hash=data_top_hash, bootstrap=True)
    ensure_quality(data)  # the data-quality circuit breaker: the version's stored report, or a check now
    out = Path(output_dir) if output_dir else settings.output_dir() / time.strftime("run-%Y%m%d-%H%M%S")
    out.mkdir(parents=True, exist_ok=True)
    return TrainingRun(config=config, data=data, output_dir=out)


def fit(run: TrainingRun, *, strategy: Any = None, verbose: int = 1) -> TrainingRun:
    """Train on the run's data; ``clf.keras`` in the output folder is the model as shipped: the
    trained network wrapped with its test-time views (:func:`fashion_lib.model.export_model`)."""
    from .model import export_model, save_model
    from .train import is_chief, strategy_from_environment, train

    strategy = strategy or strategy_from_environment()
    run.chief, run.distributed = is_chief(strategy), strategy.num_replicas_in_sync > 1
    run.result = train(
        run.config, run.data.train, output_dir=run.output_dir if run.chief else None, strategy=strategy, verbose=verbose
    )
    run.model = run.result.model
    if run.chief:
        save_model(export_model(run.model, run.config), run.model_path)
    return run


def assess(run: TrainingRun) -> TrainingRun:
    """Score the shipped file on the official test set; write ``metrics.json`` (chief only).

    The recorded accuracy is what plain Keras gives on ``clf.keras`` as saved: the file is
    loaded back (``keras.models.load_model``, safe mode) and run with ``model.predict`` at the
    default batch size, argmax. The trained network alone, on the unaltered images, is kept
    as ``test_accuracy_single_view``.
    """
    from .evaluate import evaluate
    from .model import load_model_file, network_of

    if not run.chief:
        return run
    # Score the shipped file in this process alone (no replicas, so no collectives with workers
    # that have finished), and its network without the views it averages, from the same file.
    shipped = load_model_file(run.model_path)
    run.evaluation = evaluate(shipped, run.data.test)
    run.single_view_accuracy = evaluate(network_of(shipped), run.data.test).accuracy
    run.finished = now()
    write_json(run.folder.metrics, run.metrics())
    return run


def publish(run: TrainingRun, *, registry: RegistryLike = None, name: str | None = None) -> str | None:
    """Publish the model package with its lineage; ``metrics.json`` gets the top hash (chief only)."""
    if not run.chief:
        return None
    run.model_top_hash = publish_model(run.output_dir, run.lineage(), registry=registry or run.data.registry, name=name)
    write_json(run.folder.metrics, run.metrics())
    return run.model_top_hash


def train_evaluate_publish(
    config: TrainConfig,
    *,
    registry: RegistryLike = None,
    data_package: str | None = None,
    data_top_hash: str | None = None,
    model_package: str | None = None,
    output_dir: str | Path | None = None,
    push: bool = True,
    strategy: Any = None,
    log: Log = _stderr,
) -> TrainingRun:
    """The whole job, in a row."""
    run = prepare_run(
        config, registry=registry, data_package=data_package, data_top_hash=data_top_hash, output_dir=output_dir
    )
    log(f"Data: {run.data.describe()}; outputs: {run.output_dir}")
    fit(run, strategy=strategy)
    if not run.chief:
        log("Training done on this worker; the chief evaluates and publishes.")
        return run
    assess(run)
    log(report(run.evaluation))
    if push:
        publish(run, registry=registry, name=model_package)
    return run


@dataclass(frozen=True)
class UpToDate:
    """What ``run`` found instead of training: the latest model already came from these inputs."""

    model_top_hash: str
    data_top_hash: str
    lineage: dict[str, Any]

    @property
    def test_accuracy(self) -> float:
        return self.lineage["metrics"]["test_accuracy"]


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


def push_run_folder(folder: str | Path, *, registry: RegistryLike = None, name: str | None = None) -> str:
    """Publish a finished run's folder as a model package (``fashion model push``); its top hash.

    The lineage comes from the folder's ``metrics.json`` and ``config.json`` through the same
    builder a training run uses, with the data version's stored quality verdict when its
    registry can be read.
    """
    run_folder = RunFolder(Path(folder))
    metrics, config = run_folder.read_finished()
    lineage = lineage_from_metrics(metrics, config, quality=_data_quality(metrics, registry))
    return publish_model(run_folder.path, lineage, registry=registry, name=name)


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


def up_to_date_model(
    config: TrainConfig, data_top_hash: str, *, registry: RegistryLike = None, name: str | None = None
) -> tuple[str, dict[str, Any]] | None:
    """The latest model package, if it came from exactly this data version, config, pinned
    environment and (clean) commit: then training again would add nothing. Else None."""
    from . import registry as reg
    from .errors import PackageNotFound
    from .lineage import code_state, environment_state

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
        and meta.get("training", {}).get("config") == config.to_dict()
    )
    return (top_hash, meta) if same else None


def reproduce(
    top_hash: str,
    *,
    registry: RegistryLike = None,
    model_package: str | None = None,
    output_dir: str | Path | None = None,
    push: bool = False,
    log: Log = _stderr,
) -> tuple[Reproduction, TrainingRun]:
    """Retrain from a model package's recorded data version and config; returns the judged
    :class:`Reproduction` and the new run."""
    name, resolved, lineage = read_lineage(top_hash, name=model_package, registry=registry, require=True)
    config = config_from_parameters(recorded=lineage["training"]["config"])
    data = lineage["data"]
    log(f"Reproducing {name}@{short(resolved)}: data {data['name']}@{short(data['top_hash'])}, recorded config")
    run = train_evaluate_publish(
        config,
        registry=registry,
        data_package=data["name"],
        data_top_hash=data["top_hash"],
        model_package=model_package,
        output_dir=output_dir,
        push=push,
        log=log,
    )
    return judge(lineage["metrics"], run, lineage), run


# How far a reproduction's test accuracy may stray from the recorded one and still count as a
# reproduction (absolute, as a fraction: 0.005 = 0.5 points = 50 of the 10,000 test images).
# On the same machine and environment a seeded run repeats bit for bit (difference 0). Across
# machines the same seed and code gave 93.87 % and 93.60 % (-0.27 points): floating-point
# sums in the CPU kernels (oneDNN picks them by CPU model and core count) round differently,
# the first epochs drift apart, and the end point moves by a few tenths of a point.
REPRODUCTION_TOLERANCE = 0.005


@dataclass
class Reproduction:
    """Recorded against reproduced metrics, judged against :data:`REPRODUCTION_TOLERANCE`."""

    recorded: dict[str, Any]
    reproduced: dict[str, Any]
    differences: list[str]  # what differs between the recorded run and this one (commit, environment)
    tolerance: float = REPRODUCTION_TOLERANCE

    @property
    def accuracy_difference(self) -> float:
        return float(self.reproduced["test_accuracy"]) - float(self.recorded["test_accuracy"])

    @property
    def within_tolerance(self) -> bool:
        return abs(self.accuracy_difference) <= self.tolerance + 1e-12

    def report(self) -> str:
        lines = [compare(self.recorded, self.reproduced)]
        lines += [f"note: {d}" for d in self.differences] or ["note: same commit and environment as recorded"]
        diff = self.accuracy_difference
        if diff == 0:
            verdict = "reproduced: identical test accuracy"
        elif self.within_tolerance:
            verdict = (
                f"reproduced: test accuracy within the tolerance of {self.tolerance * 100:.2f} points "
                f"({diff * 100:+.2f})"
            )
        else:
            verdict = (
                f"NOT reproduced: test accuracy differs by {diff * 100:+.2f} points, more than the tolerance "
                f"of {self.tolerance * 100:.2f}"
            )
        return "\n".join([*lines, verdict])


def run_differences(lineage: dict[str, Any]) -> list[str]:
    """What differs between a recorded lineage and the code and environment running now."""
    from .lineage import code_state, environment_state

    out = []
    recorded, code = lineage.get("code", {}), code_state()
    if recorded.get("commit") != code["commit"]:
        out.append(f"commit differs: recorded {recorded.get('commit') or 'unknown'}, now {code['commit'] or 'unknown'}")
    if code["dirty"]:
        out.append("the working tree has uncommitted changes")
    env, now_env = lineage.get("environment", {}), environment_state()
    for key in ("requirements_sha256", "python", "tensorflow", "keras", "numpy", "platform"):
        if env.get(key) != now_env.get(key):
            out.append(f"environment differs: {key} recorded {env.get(key)}, now {now_env.get(key)}")
    return out


def judge(recorded: dict[str, Any], run: TrainingRun, lineage: dict[str, Any]) -> Reproduction:
    """Compare a reproduction with the recorded metrics and environment."""
    return Reproduction(recorded, run.metrics(), run_differences(lineage))


def compare(old: dict[str, Any], new: dict[str, Any]) -> str:
    """A few lines comparing recorded and reproduced metrics."""
    lines = [f"{'metric':<26} {'recorded':>10} {'reproduced':>11} {'difference':>11}"]
    for key in ("test_accuracy", "test_accuracy_single_view", "test_loss"):
        a, b = old.get(key), new.get(key)
        if a is not None and b is not None:
            lines.append(f"{key:<26} {a:>10.4f} {b:>11.4f} {b - a:>+11.4f}")
    return "\n".join(lines)
