"""The library functions the notebooks call, called the wrong way: a DataFrame for an array, a dict
for a config, None for a folder. Each is one ArgumentError line naming the function's argument, what
it was given and what it takes (before: KeyError, AttributeError, IndexError or a blank figure)."""

from __future__ import annotations

import types
from collections.abc import Callable
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from fashion_lib import pipeline, plots
from fashion_lib.classes import CLASS_NAMES
from fashion_lib.errors import ArgumentError, FashionError

rng = np.random.default_rng(0)
LABELS = np.repeat(np.arange(10, dtype=np.uint8), 20)
IMAGES = rng.integers(0, 256, size=(len(LABELS), 28, 28), dtype=np.uint8)
CSV = pd.DataFrame(
    np.c_[LABELS, IMAGES.reshape(len(LABELS), -1)], columns=["label"] + [f"pixel{i}" for i in range(1, 785)]
)
SCORES = {name: {"precision": 0.9, "recall": 0.8, "f1": 0.85} for name in CLASS_NAMES}
DRIFT = {name: {"mean intensity": 0.01} for name in CLASS_NAMES}  # one file's drift
MISTAKES = [{"index": i, "true": 6, "predicted": 0, "confidence": 0.9} for i in range(3)]

PLOTS: dict[str, tuple[Callable[[], object], str]] = {
    "a CSV's DataFrame": (
        lambda: plots.sample_grid(CSV, CSV["label"]),
        "plots.sample_grid: images is a pandas DataFrame (200 rows x 785 columns); expected an array of 28x28 images",
    ),
    "flat rows": (lambda: plots.mean_images(IMAGES.reshape(200, -1), LABELS), ".reshape(-1, 28, 28)"),
    "labels and images swapped": (
        lambda: plots.sample_grid(LABELS, IMAGES),
        "plots.sample_grid: images is an array of shape (200,) (uint8)",
    ),
    "scaled to 0-1": (lambda: plots.sample_grid(IMAGES / 255, LABELS), "these look scaled to 0-1: multiply by 255"),
    "a label short": (
        lambda: plots.embedding(IMAGES, LABELS[:-1]),
        "plots.embedding: labels is an array of shape (199,) (uint8); expected 200 class numbers 0-9",
    ),
    "too few per class": (
        lambda: plots.sample_grid(IMAGES[::4], LABELS[::4]),
        "plots.sample_grid: per_class is 10, but T-shirt/top has 5 image(s) here; give per_class=5 or fewer",
    ),
    "class names": (
        lambda: plots.lookalikes(IMAGES, LABELS, classes=["Shirt", "Coat"]),
        "plots.lookalikes: classes holds 'Shirt'; expected class numbers 0-9 (Shirt is 6)",
    ),
    "one split's labels": (lambda: plots.class_balance(LABELS), "plots.class_balance: splits is an array of shape"),
    "no history": (lambda: plots.training_history(None), "plots.training_history: history is None; expected"),
    "the evaluation": (
        lambda: plots.confusion_matrix(types.SimpleNamespace(confusion=np.eye(10))),
        "plots.confusion_matrix: matrix is a SimpleNamespace; expected a 10x10 matrix",
    ),
    "indices for mistakes": (
        lambda: plots.misclassified(IMAGES, np.array([1, 2, 3])),
        "plots.misclassified: errors is an array of shape (3,) (int64); expected dicts of index, true, predicted",
    ),
    "the training images": (
        lambda: plots.misclassified(IMAGES[:2], MISTAKES),
        "plots.misclassified: images is an array of shape (2, 28, 28) (uint8); expected the images evaluated",
    ),
    "the whole metrics": (
        lambda: plots.per_class_scores({"test_accuracy": 0.9, "per_class": SCORES}),
        "plots.per_class_scores: per_class is a dict with keys 'test_accuracy', 'per_class'; expected scores",
    ),
    "one file's drift": (lambda: plots.quality_drift(DRIFT), "plots.quality_drift: drift is a dict with keys"),
    "no folder": (lambda: plots.save(plots.per_class_scores(SCORES), None, "x"), "plots.save: folder is None"),
    "figure and folder swapped": (
        lambda: plots.save("out", plots.per_class_scores(SCORES), "x"),
        "plots.save: fig is the string 'out'; expected a matplotlib Figure",
    ),
}


@pytest.mark.parametrize("case", PLOTS)
def test_a_misused_figure_is_one_line_naming_the_argument(case: str) -> None:
    call, expected = PLOTS[case]
    with pytest.raises(ArgumentError) as info:
        call()
    message = str(info.value)
    assert expected in message and "\n" not in message, message
    plt.close("all")


def test_the_error_is_the_projects_and_still_what_python_raised() -> None:
    with pytest.raises(ArgumentError) as info:
        plots.sample_grid(None, LABELS)
    assert isinstance(info.value, FashionError)  # IPython shows it as its one line (parameters.show_errors_in_one_line)
    assert isinstance(info.value, TypeError) and isinstance(info.value, ValueError)


def test_what_the_checks_let_through_still_draws(tmp_path: Path) -> None:
    as_floats = plots.pixel_histogram(IMAGES.astype(np.float32))  # 0-255 floats: before, a numpy casting error
    assert [p.get_height() for p in as_floats.axes[0].patches] == [
        p.get_height() for p in plots.pixel_histogram(IMAGES).axes[0].patches
    ]
    grid = plots.sample_grid(IMAGES.tolist(), pd.Series(LABELS), per_class=3)  # lists and a pandas column are arrays
    assert [ax.get_ylabel() for ax in grid.axes[::3]] == list(CLASS_NAMES)
    history = pd.DataFrame({"loss": [1.0, 0.5], "accuracy": [0.6, 0.8]})  # history.csv read back
    assert plots.save(plots.training_history(history), tmp_path, "history")
    assert (tmp_path / "history.png").is_file()
    plt.close("all")


@pytest.fixture(scope="module")
def config():
    return pipeline.config_from_parameters("quick", epochs=1)


def test_misused_pipeline_steps_are_one_line_before_anything_is_loaded(config, tmp_path: Path) -> None:
    cases = {
        "pipeline.prepare_run: config is a dict with keys 'epochs'; expected a TrainConfig": lambda: (
            pipeline.prepare_run({"epochs": 1}, output_dir=tmp_path / "run")
        ),
        "pipeline.prepare_run: config is the string 'quick'; expected a TrainConfig": lambda: pipeline.prepare_run(
            "quick"
        ),
        "pipeline.prepare_run: output_dir is 5; expected a folder path, or None": lambda: pipeline.prepare_run(
            config, output_dir=5
        ),
        "pipeline.prepare_run: data_top_hash is 123; expected a top hash": lambda: pipeline.prepare_run(
            config, data_top_hash=123, output_dir=tmp_path / "run"
        ),
        "pipeline.fit: run is a TrainConfig; expected the TrainingRun that pipeline.prepare_run returns": lambda: (
            pipeline.fit(config)
        ),
        "pipeline.assess: run is None; expected the TrainingRun": lambda: pipeline.assess(None),
        "pipeline.publish: run is an empty dict; expected the TrainingRun": lambda: pipeline.publish({}),
    }
    for expected, call in cases.items():
        with pytest.raises(ArgumentError) as info:
            call()
        assert expected in str(info.value), str(info.value)
    assert list(tmp_path.iterdir()) == []


def test_assess_before_fit_names_the_library_call(config, tmp_path: Path) -> None:
    """Not the CLI's 'train one first: fashion train': in a notebook the step that comes first is pipeline.fit."""
    from fashion_lib.errors import ModelError
    from fashion_lib.training_run import TrainingRun

    run = TrainingRun(config=config, data=None, output_dir=tmp_path / "run")  # as prepare_run returns it, unfitted
    with pytest.raises(ModelError) as info:
        pipeline.assess(run)
    assert (
        str(info.value)
        == f"run folder {tmp_path / 'run'}: no clf.keras to assess; train the run first: pipeline.fit(run)"
    )
