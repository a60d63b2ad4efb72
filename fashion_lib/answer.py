"""The training notebook's closing answer, written from a run's own numbers (never typed in).

``train.ipynb`` opens with a question: can a small CNN, trained on two CPU cores in under ten
minutes, classify at least 94.3 % of the official test images, and can it be handed over so that
anyone can retrain it? :func:`training_answer` answers it from the run's ``metrics.json``.
"""

from __future__ import annotations

from typing import Any

from .evaluate import chance_warning

TARGET_ACCURACY = 0.943  # the question's bar (issue 10)
BUDGET_MINUTES = 10.0  # ... and its time budget


def training_answer(
    metrics: dict[str, Any],
    *,
    model_package: str,
    target_accuracy: float = TARGET_ACCURACY,
    budget_minutes: float = BUDGET_MINUTES,
) -> str:
    """A short Markdown paragraph answering the question from ``metrics`` (a run's ``metrics.json``)."""
    accuracy = float(metrics["test_accuracy"])
    minutes = float(metrics.get("train_seconds") or 0.0) / 60
    fast, good = minutes < budget_minutes, accuracy >= target_accuracy
    verdict = "Yes" if fast and good else "Not on this run"
    missed = []
    if not good:
        missed.append(f"short of the {target_accuracy * 100:g} % bar")
    if not fast:
        missed.append(f"over the {budget_minutes:g}-minute budget")
    why = f" ({' and '.join(missed)})" if missed else ""
    single = metrics.get("test_accuracy_single_view")
    views = (
        f" (the network alone, without the views the file averages: {float(single):.2%})" if single is not None else ""
    )
    model_hash, data_hash = metrics.get("model_top_hash"), metrics.get("data_top_hash") or "?"
    handed = (
        f"published as `{model_package}` version `{model_hash[:12]}`, with the data version `{data_hash[:12]}`, "
        "the commit, the environment and the config in its lineage, so `fashion reproduce` can retrain it"
        if model_hash
        else "not published (publish=False), so there is nothing to hand over yet"
    )
    chance = chance_warning(metrics.get("confusion_matrix"))
    learned = f" Beware: {chance.removeprefix('warning: ')}." if chance else ""
    return (
        f"**{verdict}**{why}. Trained in {_duration(minutes)} on this machine, the shipped `clf.keras`, scored by "
        f"plain Keras, classifies **{accuracy:.2%}** of the {_test_set(metrics)} correctly{views}. It is "
        f"{handed}.{learned}"
    )


def _duration(minutes: float) -> str:
    """A training time in words: seconds under a minute ("Trained in 0.0 minutes" said nothing), else minutes."""
    return f"{minutes * 60:.0f} seconds" if minutes < 1 else f"{minutes:.1f} minutes"


def _test_set(metrics: dict[str, Any]) -> str:
    """The test images scored: "10,000 official test images" for the default data package's 10,000, else how many,
    and of which data package (a user's own package is no official test set)."""
    from .settings import DEFAULT_DATA_PACKAGE

    count, package = _test_images(metrics), metrics.get("data_package")
    if package in (None, DEFAULT_DATA_PACKAGE) and count == "10,000":
        return f"{count} official test images"
    return f"{count} test images of `{package}`" if package else f"{count} test images"


def _test_images(metrics: dict[str, Any]) -> str:
    """How many test images were scored (the per-class supports), as text; "10,000" when not recorded."""
    per_class = metrics.get("per_class")
    if isinstance(per_class, dict) and per_class:
        try:
            return f"{sum(int(s['support']) for s in per_class.values()):,}"
        except (KeyError, TypeError, ValueError):
            pass
    return "10,000"
