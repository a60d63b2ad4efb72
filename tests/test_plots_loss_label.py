"""training_history's loss axis says which loss was trained: label-smoothed cross-entropy only where the
run smoothed its labels (``label_smoothing`` > 0), plain cross-entropy where it did not."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot  # noqa: E402
import pytest  # noqa: E402

from fashion_lib import plots  # noqa: E402
from fashion_lib.errors import ArgumentError  # noqa: E402

HISTORY = {"loss": [1.0, 0.5], "val_loss": [1.1, 0.6], "accuracy": [0.6, 0.8], "val_accuracy": [0.55, 0.75]}


@pytest.mark.parametrize(
    "smoothing, label",
    [(0, "loss (cross-entropy)"), (0.0, "loss (cross-entropy)"), (0.1, "loss (label-smoothed cross-entropy)")],
)
def test_the_loss_axis_follows_the_runs_label_smoothing(smoothing, label):
    """Before: 'label-smoothed cross-entropy' whatever the run's config said (no way to tell the figure)."""
    fig = plots.training_history(HISTORY, label_smoothing=smoothing)
    assert fig.axes[0].get_ylabel() == label
    matplotlib.pyplot.close(fig)


@pytest.mark.parametrize(
    "smoothing, given", [(1.0, "1.0"), (-0.1, "-0.1"), ("0.1", "the string '0.1'"), (True, "True")]
)
def test_a_label_smoothing_that_is_no_smoothing_is_one_line(smoothing, given):
    with pytest.raises(ArgumentError) as caught:
        plots.training_history(HISTORY, label_smoothing=smoothing)
    assert str(caught.value) == (
        f"plots.training_history: label_smoothing is {given}; "
        "expected a number in [0, 1), such as run.result.config.label_smoothing"
    )
