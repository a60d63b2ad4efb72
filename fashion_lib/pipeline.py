"""The main job in steps: data -> train -> evaluate -> save -> publish (-> reproduce).

``train.ipynb`` calls the steps one at a time, with a picture after each; ``fashion run``
and ``fashion train`` call them in a row. Outputs land in ``output_dir``:
``clf.keras``, ``history.csv``/``history.json``, ``config.json`` and ``metrics.json``.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from . import settings
from .config import TrainConfig
from .data import DataVersion, load_data
from .lineage import build_lineage, now
from .model_package import METRICS_FILE, MODEL_FILE, publish_model, read_lineage, write_json

Log = Callable[[str], None]


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


@dataclass
class TrainingRun:
    """One training run: what went in, what came out, and where it was written."""

    config: TrainConfig
    data: DataVersion
    output_dir: Path
    model: Any = None
    result: Any = None          # fashion_lib.train.TrainResult
    evaluation: Any = None      # fashion_lib.evaluate.Evaluation
    started: str = field(default_factory=now)
    finished: str | None = None
    model_top_hash: str | None = None
    single_view_accuracy: float | None = None  # the trained network alone, without test-time views
    chief: bool = True          # False on the other workers of a multi-worker run: they write nothing
    distributed: bool = False   # trained over several replicas

    @property
    def model_path(self) -> Path:
        return self.output_dir / MODEL_FILE

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
        evaluation = test_metrics(self.evaluation)
        if self.single_view_accuracy is not None:
            evaluation["test_accuracy_single_view"] = self.single_view_accuracy
        return build_lineage(data_name=self.data.name, data_top_hash=self.data.top_hash,
                             registry=self.data.registry, config=self.config.to_dict(), metrics=evaluation,
                             started=self.started, finished=self.finished or now(),
                             seconds=self.result.train_seconds, epochs_run=self.result.epochs_run)


def config_from_parameters(preset: str = "default", **overrides: Any) -> TrainConfig:
    """A preset with the given overrides; ``None`` means "keep the preset's value"."""
    if overrides.get("limit") == 0:
        overrides["limit"] = None
    return TrainConfig.from_preset(preset, **{k: v for k, v in overrides.items() if v is not None})


def test_metrics(evaluation: Any) -> dict[str, Any]:
    """Test-set numbers under the names the notebooks, README and lineage use."""
    scores = evaluation.to_dict(max_misclassified=0)
    scores.pop("misclassified")
    return {"test_accuracy": scores.pop("accuracy"), "test_loss": scores.pop("loss"), **scores}


def report(evaluation: Any) -> str:
    """A short text report of an evaluation."""
    lines = [f"test accuracy {evaluation.accuracy:.4f}, loss {evaluation.loss:.4f}"
             f"{' (flip TTA)' if evaluation.tta else ''}, {len(evaluation.misclassified)} mistakes",
             f"{'class':<12} {'precision':>9} {'recall':>7} {'f1':>6}"]
    for name, p, r, f in zip(evaluation.class_names, evaluation.precision, evaluation.recall, evaluation.f1):
        lines.append(f"{name:<12} {p:>9.3f} {r:>7.3f} {f:>6.3f}")
    return "\n".join(lines)


def prepare_run(config: TrainConfig, *, registry: str | None = None, data_package: str | None = None,
                data_top_hash: str | None = None, output_dir: str | Path | None = None) -> TrainingRun:
    """Validate the config, then fetch, verify and validate the data (bootstrapping it if needed)."""
    config.validate()
    data = load_data(registry=registry, name=data_package, top_hash=data_top_hash, bootstrap=True)
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
    run.result = train(run.config, run.data.train, output_dir=run.output_dir if run.chief else None,
                       strategy=strategy, verbose=verbose)
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
    from .model import load_model_file

    if not run.chief:
        return run
    run.evaluation = evaluate(load_model_file(run.model_path), run.data.test)
    if run.model is not None:
        run.single_view_accuracy = evaluate(run.model, run.data.test).accuracy
    run.finished = now()
    write_json(run.output_dir / METRICS_FILE, run.metrics())
    return run


def publish(run: TrainingRun, *, registry: str | None = None, name: str | None = None) -> str | None:
    """Publish the model package with its lineage; ``metrics.json`` gets the top hash (chief only)."""
    if not run.chief:
        return None
    run.model_top_hash = publish_model(run.output_dir, run.lineage(), registry=registry or run.data.registry,
                                       name=name)
    write_json(run.output_dir / METRICS_FILE, run.metrics())
    return run.model_top_hash


def train_evaluate_publish(config: TrainConfig, *, registry: str | None = None, data_package: str | None = None,
                           data_top_hash: str | None = None, model_package: str | None = None,
                           output_dir: str | Path | None = None, push: bool = True, strategy: Any = None,
                           log: Log = _stderr) -> TrainingRun:
    """The whole job, in a row."""
    run = prepare_run(config, registry=registry, data_package=data_package, data_top_hash=data_top_hash,
                      output_dir=output_dir)
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


def up_to_date_model(config: TrainConfig, data_top_hash: str, *, registry: str | None = None,
                     name: str | None = None) -> tuple[str, dict[str, Any]] | None:
    """The latest model package, if it came from exactly this data version, config, pinned
    environment and (clean) commit: then training again would add nothing. Else None."""
    from . import registry as reg
    from .errors import RegistryError
    from .lineage import code_state, environment_state

    try:
        top_hash, meta, _ = reg.read_meta(name or settings.model_package(), registry=registry)
    except RegistryError:
        return None
    code = code_state()
    recorded = meta.get("code", {})
    same = (code["commit"] and code["dirty"] is False and recorded.get("commit") == code["commit"]
            and recorded.get("dirty") is False
            and meta.get("data", {}).get("top_hash") == data_top_hash
            and meta.get("environment", {}).get("requirements_sha256") == environment_state()["requirements_sha256"]
            and meta.get("training", {}).get("config") == config.to_dict())
    return (top_hash, meta) if same else None


def reproduce(top_hash: str, *, registry: str | None = None, model_package: str | None = None,
              output_dir: str | Path | None = None, push: bool = False,
              log: Log = _stderr) -> tuple[Reproduction, TrainingRun]:
    """Retrain from a model package's recorded data version and config; returns the judged
    :class:`Reproduction` and the new run."""
    name, resolved, lineage = read_lineage(top_hash, name=model_package, registry=registry)
    config = TrainConfig.from_dict(lineage["training"]["config"])
    data = lineage["data"]
    log(f"Reproducing {name}@{resolved[:12]}: data {data['name']}@{data['top_hash'][:12]}, recorded config")
    run = train_evaluate_publish(config, registry=registry, data_package=data["name"],
                                 data_top_hash=data["top_hash"], model_package=model_package,
                                 output_dir=output_dir, push=push, log=log)
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
    differences: list[str]      # what differs between the recorded run and this one (commit, environment)
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
            verdict = (f"reproduced: test accuracy within the tolerance of {self.tolerance * 100:.2f} points "
                       f"({diff * 100:+.2f})")
        else:
            verdict = (f"NOT reproduced: test accuracy differs by {diff * 100:+.2f} points, more than the tolerance "
                       f"of {self.tolerance * 100:.2f}")
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


def judge(recorded: dict[str, Any], run: "TrainingRun", lineage: dict[str, Any]) -> Reproduction:
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
