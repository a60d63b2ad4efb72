"""The train notebook's closing answer is written from the run's numbers."""

from __future__ import annotations

import pytest

from fashion_lib.answer import training_answer
from fashion_lib.classes import CLASS_NAMES

METRICS = {
    "test_accuracy": 0.94384,
    "test_accuracy_single_view": 0.9409,
    "train_seconds": 545.0,
    "data_top_hash": "d" * 64,
    "model_top_hash": "e" * 64,
    "per_class": {name: {"precision": 0.9, "recall": 0.9, "f1": 0.9, "support": 1000} for name in CLASS_NAMES},
}


def test_a_run_that_meets_the_bar_says_yes_with_its_own_numbers() -> None:
    text = training_answer(METRICS, model_package="team/model")
    assert text.startswith("**Yes**. Trained in 9.1 minutes")
    assert "**94.38%** of the 10,000 official test images" in text
    assert "without the views the file averages: 94.09%" in text
    assert f"`team/model` version `{'e' * 12}`" in text and f"data version `{'d' * 12}`" in text


@pytest.mark.parametrize(
    "changes, reason",
    [
        ({"test_accuracy": 0.8}, "short of the 94.3 % bar"),
        ({"train_seconds": 900.0}, "over the 10-minute budget"),
        ({"test_accuracy": 0.8, "train_seconds": 900.0}, "short of the 94.3 % bar and over the 10-minute budget"),
    ],
)
def test_a_run_that_misses_says_so_and_why(changes: dict, reason: str) -> None:
    text = training_answer({**METRICS, **changes}, model_package="m")
    assert text.startswith(f"**Not on this run** ({reason}).")


def test_an_unpublished_subset_run_counts_its_own_test_images() -> None:
    small = {name: {**s, "support": 40} for name, s in METRICS["per_class"].items()}
    metrics = {**METRICS, "model_top_hash": None, "per_class": small}
    metrics.pop("test_accuracy_single_view")
    text = training_answer(metrics, model_package="m")
    assert "of the 400 test images correctly" in text and "without the views" not in text  # a subset: not "official"
    assert "not published (publish=False)" in text and "Beware" not in text


def test_a_quick_run_on_a_package_of_ones_own_at_chance_level_says_so(tmp_path) -> None:
    """Helper 101: a 2.5 s run read "Trained in 0.0 minutes", its own package's test images were "official",
    and a model at chance level (published) was not said to be so."""
    confusion = [[100 if j == 3 else 0 for j in range(10)] for _ in range(10)]  # every image called a Dress
    per_class = {name: {**s, "support": 100} for name, s in METRICS["per_class"].items()}
    metrics = {
        **METRICS,
        "train_seconds": 2.5,
        "test_accuracy": 0.1,
        "data_package": "me/clothes",
        "per_class": per_class,
        "confusion_matrix": confusion,
    }
    text = training_answer(metrics, model_package="m")
    assert text.startswith("**Not on this run** (short of the 94.3 % bar). Trained in 2 seconds on this machine")
    assert "**10.00%** of the 1,000 test images of `me/clothes` correctly" in text
    assert text.endswith(
        "Beware: test accuracy 10.0 % is chance level (every image predicted as Dress); this model has learned "
        "nothing: train longer or on more data."
    )
    official = training_answer({**METRICS, "data_package": "fashion-mnist/data"}, model_package="m")
    assert "of the 10,000 official test images" in official
