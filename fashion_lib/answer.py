"""The training notebook's closing answer, written from a run's own numbers (never typed in).

``train.ipynb`` opens with a question: can a small CNN, trained on two CPU cores in under ten
minutes, classify at least 93 % of the official test images, and can it be handed over so that
anyone can retrain it? :func:`training_answer` answers it from the run's ``metrics.json``.
"""

from __future__ import annotations

from typing import Any

TARGET_ACCURACY = 0.93  # the question's bar
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
        missed.append(f"short of the {target_accuracy:.0%} bar")
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
    return (
        f"**{verdict}**{why}. Trained in {minutes:.1f} minutes on this machine, the shipped `clf.keras`, scored by "
        f"plain Keras, classifies **{accuracy:.2%}** of the {_test_images(metrics)} official test images "
        f"correctly{views}. It is {handed}."
    )


def _test_images(metrics: dict[str, Any]) -> str:
    """How many test images were scored (the per-class supports), as text; "10,000" when not recorded."""
    per_class = metrics.get("per_class")
    if isinstance(per_class, dict) and per_class:
        try:
            return f"{sum(int(s['support']) for s in per_class.values()):,}"
        except (KeyError, TypeError, ValueError):
            pass
    return "10,000"
