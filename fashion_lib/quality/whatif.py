"""What a failure looks like: the quality checks on a deliberately damaged copy of a version.

``explore.ipynb`` shows the circuit breaker tripping without touching any stored data: one
class of the test file is made darker in memory and checked against the same reference as the
real version's report.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .checks import measure, run_checks
from .profile import Profile
from .report import QualityReport


def darker(images: np.ndarray, labels: np.ndarray, label: int, factor: float) -> np.ndarray:
    """A copy of ``images`` with every image of class ``label`` scaled by ``factor`` (0..1)."""
    if not 0.0 <= factor <= 1.0:
        raise ValueError(f"factor={factor!r}: expected a number from 0 to 1 (1: unchanged)")
    out = images.copy()
    chosen = labels == label
    out[chosen] = (out[chosen] * factor).astype(images.dtype)
    return out


def darker_test_class(
    train: Any, test: Any, report: QualityReport, *, label: int, factor: float, source: str = "this version"
) -> QualityReport:
    """The checks on ``(train, test)`` with class ``label`` of the test file darkened by ``factor``,
    against the undamaged version's own profile (``report.profile``, its stored quality report),
    so that only the damage shows; ``source`` names that reference in the report."""
    damaged = darker(test.images, test.labels, label, factor)
    reference = Profile.from_dict({**report.profile, "source": source})
    return run_checks(measure((train.images, train.labels), (damaged, test.labels)), reference)
