"""The model card (the README stored in a model package) has a module of its own, ``model_card``, split from
``model_package`` (which publishes it and still offers ``model_card`` to those that import it from there)."""

from __future__ import annotations

from fashion_lib import model_package
from fashion_lib.classes import CLASS_NAMES
from fashion_lib.model_card import model_card


def _lineage(config: dict) -> dict:
    scores = {"precision": 0.9, "recall": 0.8, "f1": 0.85}
    per_class = {name: scores for name in reversed(CLASS_NAMES)}  # not label order: the card sorts them
    return {
        "data": {"name": "fashion-mnist/data", "top_hash": "a" * 64},
        "code": {"commit": "abc123", "dirty": True},
        "environment": {"requirements_sha256": "b" * 64, "python": "3.12", "tensorflow": "2.x", "keras": "3.x"},
        "training": {"config": config, "epochs_run": 3, "seconds": 12.5},
        "metrics": {"test_accuracy": 0.9123, "test_loss": 0.25, "per_class": per_class},
    }


def test_the_card_is_written_from_the_lineage():
    card = model_card(_lineage({"tta": True}))
    assert "**Test accuracy: 0.9123** (loss 0.2500)" in card
    assert "over 2 test-time view(s)" in card and "its mirror" in card
    assert "commit `abc123` (with uncommitted changes)" in card
    assert "(Keras 3.4 or later: 3.0 to 3.3 can't read the file)" in card  # a receiver on TensorFlow 2.16's 3.3
    rows = [line.split(" | ")[0].removeprefix("| ") for line in card.splitlines() if line.startswith("| ")][1:]
    assert rows == list(CLASS_NAMES)


def test_the_card_says_where_and_in_what_arithmetic_the_time_was_spent():
    lineage = _lineage({"tta": True, "precision": "mixed_bfloat16"})
    lineage["environment"]["cpu"] = "AMD EPYC, 2 cores"
    assert "after 3 epochs in 12.5 s of training on AMD EPYC, 2 cores, computed in bfloat16 (float32 weights)." in (
        model_card(lineage)
    )
    assert "after 3 epochs in 12.5 s. That is" in model_card(_lineage({"tta": True, "precision": "float32"}))


def test_a_config_that_is_no_train_config_counts_one_view():
    assert "over 1 test-time view(s)" in model_card(_lineage({"stages": 5}))


def test_model_package_still_offers_the_card():
    assert model_package.model_card is model_card
