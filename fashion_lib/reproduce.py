"""Reproduce a model package: retrain from its recorded data version and config, then judge
the new test accuracy against the recorded one: exactly where nothing that decides the result
differs, within :data:`REPRODUCTION_TOLERANCE` where the commit, environment or CPU does."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .config import TrainConfig
from .console import Log, short
from .console import stderr as _stderr
from .errors import BucketNotFound, ConfigError, ModelError, PackageNotFound, RegistryError
from .lineage import recorded_registry, registry_here
from .lineage_values import check_reproducible
from .model_package import read_lineage
from .parameters import config_from_parameters
from .run_steps import train_evaluate_publish
from .training_run import TrainingRun

if TYPE_CHECKING:
    from .registry import Registry, RegistryLike


def reproduce(
    top_hash: str,
    *,
    registry: RegistryLike = None,
    data_registry: RegistryLike = None,
    model_package: str | None = None,
    output_dir: str | Path | None = None,
    push: bool = False,
    tolerance: float | None = None,
    log: Log = _stderr,
) -> tuple[Reproduction, TrainingRun]:
    """Retrain from a model package's recorded data version and config; returns the judged
    :class:`Reproduction` and the new run. The data comes from ``data_registry`` if given, else from
    :func:`find_data`'s registry; ``push`` publishes to ``registry``."""
    from . import registry as reg

    store = reg.open(registry)
    name, resolved, lineage = read_lineage(top_hash, name=model_package, registry=store, require=True)
    check_reproducible(name, resolved, lineage)  # every recorded value, before anything trains
    config = recorded_config(name, resolved, lineage)
    data = lineage["data"]
    log(f"Reproducing {name}@{short(resolved)}: data {data['name']}@{short(data['top_hash'])}, recorded config")
    slow = bfloat16_elsewhere(config.precision)
    if slow:
        log(f"note: {slow}")
    source = find_data(data, store, data_registry, log=log)
    run = train_evaluate_publish(
        config,
        registry=store,
        data_registry=source,
        data_package=data["name"],
        data_top_hash=data["top_hash"],
        model_package=model_package,
        output_dir=output_dir,
        push=push,
        log=log,
    )
    return judge(lineage["metrics"], run, lineage, tolerance=tolerance), run


def bfloat16_elsewhere(recorded: str) -> str | None:
    """A note where a model computed in bfloat16 is reproduced on a machine that has no fast bfloat16: the
    reproduction computes as recorded (the same arithmetic), emulated, so it takes several times as long."""
    from .precision import AUTO, BFLOAT16, resolve

    if recorded != BFLOAT16:
        return None
    here, why = resolve(AUTO)  # one probe of this machine's CPU flags and GPUs
    if here == BFLOAT16:
        return None
    why = why.removeprefix("auto: ")
    return f"the model was computed in bfloat16 and is reproduced so, but {why}: expect several times its training time"


def find_data(data: dict[str, Any], store: Registry, chosen: RegistryLike = None, *, log: Log = _stderr) -> Registry:
    """The registry to take the recorded data version from: ``chosen`` (``--data-registry``); else ``store``
    (the model's) where it holds the version; else the registry the lineage records, where this machine
    reaches it (an ``s3://`` URL or an absolute folder here), said in one line. PackageNotFound, naming
    where it looked, where none holds it; a registry that does not answer is left to the fetch (its
    error, or the cached copy that stands in for it)."""
    from . import registry as reg

    wanted, recorded = f"{data['name']}@{short(data['top_hash'])}", data.get("registry")
    if chosen is not None:
        places = [(reg.open(chosen), " (--data-registry)")]
    else:
        places = [(store, "")]
        if registry_here(recorded) and recorded != store.location:
            places.append((reg.open(recorded), " (the data's registry, as the lineage records it)"))
    for place, why in places:
        try:
            place.resolve(data["name"], data["top_hash"])
        except (PackageNotFound, BucketNotFound):
            continue
        except RegistryError:
            pass  # no answer: the fetch says so, or takes the cached copy
        if place is not store and chosen is None:
            log(f"{wanted} is not in {store.describe()}; taking it from {place.describe()}{why}")
        return place
    looked = " nor in ".join(place.describe() + why for place, why in places)
    if len(places) == 1 and chosen is None:
        looked += f"; the lineage records its registry {recorded_registry(recorded)}"
    raise PackageNotFound(
        f"data version {wanted} is not in {looked}; name the registry that holds it with --data-registry"
    )


def recorded_config(name: str, top_hash: str, lineage: dict[str, Any]) -> TrainConfig:
    """The config a model package version was trained with, as its lineage records it.

    An empty or invalid recorded config is a :class:`ModelError` naming the version: retraining
    from it would run some other recipe (the defaults for an empty one), not reproduce the model.
    """
    recorded = lineage["training"]["config"]  # a dict: read_lineage(require=True) checked it
    where = f"{name}@{short(top_hash)}"
    if not recorded:
        raise ModelError(
            f"{where} records an empty training config (training.config is {{}}), so it cannot be "
            "reproduced: retraining would use the default recipe, not the one that made it"
        )
    try:
        return config_from_parameters(recorded=recorded)
    except ConfigError as error:
        raise ModelError(
            f"{where}: its recorded training config (training.config) is invalid: {error}; it cannot be reproduced"
        ) from None


# How far a reproduction's test accuracy may stray from the recorded one and still count as a
# reproduction (absolute, as a fraction: 0.005 = 0.5 points = 50 of the 10,000 test images).
# With the same commit, environment and CPU (model and cores) a seeded run repeats bit for bit,
# so there the tolerance is 0. Across machines the same seed and code gave 93.87 % and 93.60 %
# (-0.27 points), and Keras on JAX on a GPU 93.99 % against 93.59 % (+0.40): floating-point
# sums in the kernels (oneDNN picks them by CPU model and core count) round differently, the
# first epochs drift apart, and the end point moves by a few tenths of a point.
REPRODUCTION_TOLERANCE = 0.005


@dataclass
class Reproduction:
    """Recorded against reproduced metrics, judged against :data:`REPRODUCTION_TOLERANCE`."""

    recorded: dict[str, Any]
    reproduced: dict[str, Any]
    differences: list[str]  # what differs between the recorded run and this one (commit, environment, CPU)
    tolerance: float = REPRODUCTION_TOLERANCE
    chosen: bool = False  # the tolerance was given (--tolerance), not derived from the differences

    @property
    def accuracy_difference(self) -> float:
        return float(self.reproduced["test_accuracy"]) - float(self.recorded["test_accuracy"])

    @property
    def within_tolerance(self) -> bool:
        return abs(self.accuracy_difference) <= self.tolerance + 1e-12

    def report(self) -> str:
        lines = [compare(self.recorded, self.reproduced)]
        lines += [f"note: {d}" for d in self.differences] or ["note: same commit, environment and CPU as recorded"]
        lines.append(f"tolerance: {self.tolerance * 100:.2f} points ({self.why_tolerance()})")
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

    def why_tolerance(self) -> str:
        if self.chosen:
            return "--tolerance"
        if self.differences:
            return "something differs from the recorded run: across machines a seeded run lands a few tenths apart"
        return "nothing differs from the recorded run: a seeded run repeats bit for bit"


def run_differences(lineage: dict[str, Any]) -> list[str]:
    """What differs between a recorded lineage and the code and environment running now."""
    from .provenance import code_state, environment_state

    def part(key: str) -> dict[str, Any]:  # a mangled part counts as unknown: everything in it differs
        value = lineage.get(key)
        return value if isinstance(value, dict) else {}

    out = []
    recorded, code = part("code"), code_state()
    if recorded.get("commit") != code["commit"]:
        out.append(f"commit differs: recorded {recorded.get('commit') or 'unknown'}, now {code['commit'] or 'unknown'}")
    if code["dirty"]:
        out.append("the working tree has uncommitted changes")
    env, now_env = part("environment"), environment_state()
    for key in ("requirements_sha256", "python", "tensorflow", "keras", "numpy", "platform", "cpu"):
        if env.get(key) != now_env.get(key):
            out.append(f"environment differs: {key} recorded {env.get(key)}, now {now_env.get(key)}")
    return out


def judge(
    recorded: dict[str, Any], run: TrainingRun, lineage: dict[str, Any], *, tolerance: float | None = None
) -> Reproduction:
    """Compare a reproduction with the recorded metrics and environment; ``tolerance`` (a fraction)
    overrides the one the differences call for (0 with none, :data:`REPRODUCTION_TOLERANCE` else)."""
    differences = run_differences(lineage)
    if tolerance is not None:
        return Reproduction(recorded, run.metrics(), differences, tolerance, chosen=True)
    return Reproduction(recorded, run.metrics(), differences, REPRODUCTION_TOLERANCE if differences else 0.0)


def compare(old: dict[str, Any], new: dict[str, Any]) -> str:
    """A few lines comparing recorded and reproduced metrics."""
    lines = [f"{'metric':<26} {'recorded':>10} {'reproduced':>11} {'difference':>11}"]
    for key in ("test_accuracy", "test_accuracy_single_view", "test_loss"):
        a, b = old.get(key), new.get(key)
        if a is not None and b is not None:
            lines.append(f"{key:<26} {a:>10.4f} {b:>11.4f} {b - a:>+11.4f}")
    return "\n".join(lines)
