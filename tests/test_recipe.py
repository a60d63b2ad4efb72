"""A training recipe in words: the table train.ipynb shows before training, and the lineage summary's
config line (one line, not the whole record)."""

from __future__ import annotations

import pytest

from fashion_lib import lineage, tables
from fashion_lib.config import TrainConfig
from fashion_lib.recipe import brief, recipe


@pytest.mark.parametrize("preset", ["default", "quick", "v1", "v2", "accurate"])
def test_every_aspect_of_a_preset_is_said_from_its_settings(preset: str) -> None:
    config = TrainConfig.from_preset(preset)
    words = recipe(config)
    assert list(words) == ["network", "training", "augmentation", "test time", "data", "seed"]
    assert all(isinstance(line, str) and "\n" not in line and line for line in words.values())
    assert f"{config.epochs} epochs of batch {config.batch_size}" in words["training"]
    assert f"peak learning rate {config.learning_rate:g}" in words["training"]
    assert str(config.seed) == words["seed"]
    views = {"default": 10, "quick": 2, "v1": 2, "v2": 10, "accurate": 10}[preset]  # image + mirror, 1-px shifts
    assert words["test time"] == f"{views} views of each image averaged inside clf.keras"
    widths = [str(w) for stage in config.stages for w in stage]
    assert all(w in words["network"] for w in widths)
    assert (f"{config.limit:,} training images" if config.limit else "every training image") in words["data"]
    assert ("random erasing" in words["augmentation"]) == bool(config.augment_erase)
    assert ("computed in bfloat16" in words["training"]) == (config.resolved().precision == "mixed_bfloat16")
    assert ("computed in" in words["training"]) == (config.precision != "float32")  # float32 as set: nothing said


def test_settings_that_are_off_are_not_said() -> None:
    config = TrainConfig(
        augment_flip=False,
        augment_erase=0,
        weight_decay=0.0,
        label_smoothing=0.0,
        warmup_fraction=0.0,
        tta=False,
        tta_shift=0,
    )
    words = recipe(config)
    assert words["augmentation"] == "none" and words["test time"] == "the image alone"
    assert "weight decay" not in words["training"] and "smoothing" not in words["training"]
    assert "warmed up" not in words["training"] and "cosine decay to 0 from the first step" in words["training"]
    assert "weight decay" not in recipe(TrainConfig(optimizer="adam"))["training"]  # Adam here takes none


def test_the_lineage_summary_gives_the_config_one_short_line() -> None:
    config = TrainConfig.from_preset("quick")
    text = lineage.describe("m", "e" * 64, {"training": {"config": config.to_dict()}})
    line = next(line for line in text.splitlines() if line.startswith("config"))
    assert line == f"config    {brief(config.to_dict())}" and len(line) < 120
    assert "4 epochs, batch 128" in line and "15,000 images" in line and "config.json" in line


@pytest.mark.parametrize("record", [None, "x", {"epochs": "many"}, {"no_such_setting": 1}])
def test_a_record_that_is_no_config_is_shown_as_it_is(record) -> None:
    assert brief(record) == str(record)


def test_the_notebook_table_has_one_row_per_aspect() -> None:
    config = TrainConfig()
    frame = tables.recipe(config).data
    assert list(frame.index) == list(recipe(config)) and list(frame["recipe"]) == list(recipe(config).values())


def test_early_stopping_and_best_weights_are_said_only_where_a_validation_split_exists() -> None:
    watched = recipe(TrainConfig(early_stopping_patience=3))
    assert "stops after 3 epochs without progress" in watched["training"]
    blind = recipe(TrainConfig(early_stopping_patience=3, validation_size=0))
    assert "stops after" not in blind["training"]  # callbacks add no early stopping without a split
    assert blind["data"] == "every training image, none held out (the last epoch's weights are kept)"
