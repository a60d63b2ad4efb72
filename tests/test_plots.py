"""Every notebook figure, called directly: right content, renders to PNG."""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest

from fashion_lib import plots
from fashion_lib.classes import CLASS_NAMES


@pytest.fixture(scope="module")
def sample() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(10, dtype=np.uint8), 20)
    images = rng.integers(0, 256, size=(len(labels), 28, 28), dtype=np.uint8)
    return images, labels


def _png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=40)
    matplotlib.pyplot.close(fig)
    return buf.getvalue()


def test_sample_grid_has_one_row_per_class(sample) -> None:
    fig = plots.sample_grid(*sample, per_class=5)
    axes = np.array(fig.axes).reshape(10, 5)
    assert [axes[r, 0].get_ylabel() for r in range(10)] == list(CLASS_NAMES)
    assert _png(fig).startswith(b"\x89PNG")


def test_class_balance_counts(sample) -> None:
    images, labels = sample
    fig = plots.class_balance({"train": labels, "test": labels[:100]})
    heights = [p.get_height() for p in fig.axes[0].patches]
    assert heights[:10] == [20] * 10 and sum(heights[10:]) == 100
    _png(fig)


def test_bounding_boxes() -> None:
    img = np.zeros((2, 28, 28), np.uint8)
    img[0, 5:15, 10:13] = 200  # 10 tall, 3 wide
    assert plots.bounding_boxes(img).tolist() == [[10, 3], [0, 0]]


def test_pca_projection(sample) -> None:
    idx, xy, explained = plots.pca_2d(sample[0], sample=50, seed=1)
    assert xy.shape == (50, 2) and len(set(idx)) == 50
    assert 0 < explained[1] <= explained[0] < 1


@pytest.mark.parametrize(
    "name", ["mean_images", "pixel_histogram", "embedding", "distinguishing_features", "lookalikes"]
)
def test_data_figures_render(sample, name: str) -> None:
    images, labels = sample
    fn = getattr(plots, name)
    fig = fn(images) if name == "pixel_histogram" else fn(images, labels)
    assert fig.axes and _png(fig).startswith(b"\x89PNG")


def test_training_history_train_vs_validation() -> None:
    history = {"loss": [1.0, 0.5], "val_loss": [1.1, 0.6], "accuracy": [0.6, 0.8], "val_accuracy": [0.55, 0.75]}
    fig = plots.training_history(history)
    assert [len(ax.lines) for ax in fig.axes] == [2, 2]
    assert [ax.get_title() for ax in fig.axes] == ["loss", "accuracy"]
    _png(fig)


def test_confusion_matrix_annotates_counts() -> None:
    m = np.eye(10, dtype=int) * 90
    m[6, 0] = 7
    fig = plots.confusion_matrix(m)
    texts = {t.get_text() for t in fig.axes[0].texts}
    assert {"90", "7"} <= texts and "0" not in texts
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == list(CLASS_NAMES)
    _png(fig)


def test_misclassified_grid_titles(sample) -> None:
    errors = [{"index": i, "true": 6, "predicted": 0, "confidence": 0.9} for i in range(5)]
    fig = plots.misclassified(sample[0], errors, count=4, columns=4)
    titles = [ax.get_title() for ax in fig.axes if ax.get_title()]
    assert titles == ["Shirt\n→ T-shirt/top 90%"] * 4
    _png(fig)


def test_per_class_scores() -> None:
    scores = {name: {"precision": 0.9, "recall": 0.8, "f1": 0.85} for name in CLASS_NAMES}
    fig = plots.per_class_scores(scores)
    assert len(fig.axes[0].patches) == 30
    _png(fig)


def test_quality_drift_one_heatmap_per_file_with_values() -> None:
    drift = {
        "train": {name: {"mean intensity": 0.01, "bbox width": 0.02} for name in CLASS_NAMES},
        "test": {
            name: {"mean intensity": 0.3 if name == "Trouser" else 0.01, "bbox width": 0.02} for name in CLASS_NAMES
        },
    }
    fig = plots.quality_drift(drift)
    heatmaps = [ax for ax in fig.axes if ax.get_title() in ("train", "test")]
    assert [ax.get_title() for ax in heatmaps] == ["train", "test"]
    assert [t.get_text() for t in heatmaps[0].get_yticklabels()] == list(CLASS_NAMES)  # rows named once, at the left
    assert "0.30" in [t.get_text() for t in heatmaps[1].texts]
    assert _png(fig).startswith(b"\x89PNG")


def test_accuracy_vs_time_one_curve_per_recipe() -> None:
    runs = [
        {"recipe": "baseline", "points": [(10.0, 0.87), (20.0, 0.90)]},
        {"recipe": "ours", "points": [(15.0, 0.90), (30.0, 0.93), (45.0, 0.94)]},
    ]
    fig = plots.accuracy_vs_time(runs, budget_s=40)
    ax = fig.axes[0]
    curves = [line for line in ax.lines if line.get_label() in ("baseline", "ours")]
    assert [list(line.get_xdata()) for line in curves] == [[10.0, 20.0], [15.0, 30.0, 45.0]]
    assert np.allclose(curves[1].get_ydata(), [90, 93, 94])
    assert {t.get_text() for t in ax.texts} >= {"90.00 %", "94.00 %"}  # no final_test: the last point
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["baseline", "ours"]
    target = [line for line in ax.lines if len(line.get_ydata()) == 2 and np.allclose(line.get_ydata(), 94.3)]
    assert len(target) == 1 and " target 94.3 %" in {t.get_text() for t in ax.texts}
    assert ax.get_ylim()[1] >= 94.3  # the target stays in view when every curve ends below it
    budget = next(t for t in ax.texts if t.get_text() == " 40 s")
    assert ax.get_ylim()[0] <= budget.get_position()[1] <= ax.get_ylim()[1]  # labelled inside the axes
    _png(fig)


@pytest.mark.parametrize("epochs", [2, 4, 18])
def test_training_history_epoch_ticks_are_whole_numbers(epochs: int) -> None:
    history = {"loss": [1.0 / (e + 1) for e in range(epochs)], "accuracy": [0.5 + e / 40 for e in range(epochs)]}
    fig = plots.training_history(history)
    fig.canvas.draw()
    for ax in fig.axes:
        lo, hi = ax.get_xlim()
        ticks = [t for t in ax.get_xticks() if lo <= t <= hi]
        assert len(ticks) >= 2 and all(float(t).is_integer() for t in ticks), ticks
    _png(fig)


def test_save_writes_a_png_named_after_the_figure_and_hands_the_figure_back(tmp_path) -> None:
    fig = plots.per_class_scores({name: {"precision": 0.9, "recall": 0.8, "f1": 0.85} for name in CLASS_NAMES})
    assert plots.save(fig, tmp_path / "run", "per_class_scores") is fig
    saved = tmp_path / "run" / "per_class_scores.png"
    assert saved.read_bytes().startswith(b"\x89PNG") and saved.stat().st_size > 5_000
    assert [p.name for p in (tmp_path / "run").iterdir()] == ["per_class_scores.png"]  # no temporary left over
    matplotlib.pyplot.close(fig)


@pytest.mark.parametrize("name", ["", "../escape", "sub/name", ".hidden"])
def test_save_refuses_names_that_are_not_plain_file_names(tmp_path, name: str) -> None:
    with pytest.raises(ValueError, match="expected a plain file name"):
        plots.figure_path(tmp_path, name)


def _every_figure(sample):
    """Each figure the notebooks draw, on small data: (name, figure)."""
    images, labels = sample
    scores = {name: {"precision": 0.9, "recall": 0.8 - i / 100, "f1": 0.85} for i, name in enumerate(CLASS_NAMES)}
    drift = {panel: {name: {"mean intensity": 0.01, "bbox width": 0.02} for name in CLASS_NAMES} for panel in "ab"}
    history = {"loss": [1.0, 0.5], "val_loss": [1.1, 0.6], "accuracy": [0.6, 0.8], "val_accuracy": [0.55, 0.75]}
    errors = [{"index": i, "true": 6, "predicted": 0, "confidence": 0.9} for i in range(5)]
    yield "sample_grid", plots.sample_grid(images, labels, per_class=3)
    yield "class_balance", plots.class_balance({"train": labels})
    yield "mean_images", plots.mean_images(images, labels)
    yield "pixel_histogram", plots.pixel_histogram(images)
    yield "embedding", plots.embedding(images, labels, sample=100)
    yield "distinguishing_features", plots.distinguishing_features(images, labels)
    yield "lookalikes", plots.lookalikes(images, labels, per_class=3)
    yield "quality_drift", plots.quality_drift(drift)
    yield "training_history", plots.training_history(history)
    yield "confusion_matrix", plots.confusion_matrix(np.eye(10, dtype=int) * 90)
    yield "misclassified", plots.misclassified(images, errors, count=4, columns=4)
    yield "per_class_scores", plots.per_class_scores(scores)
    yield "accuracy_vs_time", plots.accuracy_vs_time([{"recipe": "r", "points": [(10.0, 0.9), (20.0, 0.92)]}])


def test_every_figure_has_a_title_and_every_axis_with_values_a_label(sample) -> None:
    """An axis whose ticks carry values (not an image panel, not a heatmap's repeated class rows) names
    what it measures: the lower panels of distinguishing_features, per_class_scores' score axis,
    training_history's loss and accuracy, the confusion matrix's colour scale."""
    for name, fig in _every_figure(sample):
        fig.canvas.draw()
        titles = [fig._suptitle.get_text() if fig._suptitle else ""] + [ax.get_title() for ax in fig.axes]
        assert any(titles), f"{name}: no title"
        for k, ax in enumerate(fig.axes):
            if not ax.axison:
                continue
            for axis, label in (("x", ax.get_xlabel()), ("y", ax.get_ylabel())):
                ticks = ax.get_xticklabels() if axis == "x" else ax.get_yticklabels()
                if any(t.get_text() for t in ticks):
                    assert label, f"{name}: axes {k} ({ax.get_title()!r}) has no {axis} label"
        matplotlib.pyplot.close(fig)


def test_the_reviewed_axes_say_what_they_measure(sample) -> None:
    fig = plots.distinguishing_features(*sample)
    lower = fig.axes[3:]
    assert [ax.get_ylabel() for ax in lower] == ["mean pixel value (0-255)"] * 2 + ["images"]
    fig = plots.per_class_scores({name: {"precision": 0.9, "recall": 0.8, "f1": 0.85} for name in CLASS_NAMES})
    assert fig.axes[0].get_ylabel() == "score (0 to 1)"
    history = {"loss": [1.0, 0.5], "val_loss": [1.1, 0.6], "accuracy": [0.6, 0.8], "val_accuracy": [0.55, 0.75]}
    fig = plots.training_history(history)  # both losses are the training loss: label smoothing included
    assert fig.axes[0].get_ylabel() == "loss (label-smoothed cross-entropy)"
    matplotlib.pyplot.close("all")


def test_a_failing_drift_cell_never_reads_as_the_threshold_itself():
    from fashion_lib.plots.data_figures import _cell_text

    assert _cell_text(0.104, 0.1) == "0.104"  # two decimals made it "0.10", beside "fails above 0.1"
    assert _cell_text(0.1004, 0.1) == "0.1004"
    assert _cell_text(0.1, 0.1) == "0.10" and _cell_text(0.0649, 0.1) == "0.06" and _cell_text(0.195, 0.1) == "0.20"
