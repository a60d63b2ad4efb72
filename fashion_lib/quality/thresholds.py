"""Every threshold of the data-quality circuit breaker, in one place.

Each check compares a candidate with its reference and fails when the difference is
both *practically* large (the ``*_FAIL`` effect size below) and *statistically* clear
for the candidate's size (``SIGMAS`` standard errors, or the two-sample KS critical
value at ``KS_ALPHA``): a 10,000-image test file is held to the effect size, a
1,000-image subset gets the wider band its sampling noise needs. A warning is half the
way there and never stops anything. The README lists the smallest damage each one catches.
"""

from __future__ import annotations

import math

# Leakage: share of test images with an exact or near duplicate in the training file,
# above the reference's own share (Fashion-MNIST has a handful of near-duplicates).
LEAKAGE_FAIL = 0.0025  # +0.25 percentage points of the test file
# Near duplicate: after the best shift of up to NEAR_SHIFT pixels in each direction, the
# mean absolute pixel difference is at most this share of full scale (0..255).
NEAR_SHIFT = 1
NEAR_PIXEL_DIFF = 0.02
NEAR_FEATURE_RADIUS = 1.5  # candidates: Fourier-magnitude distance (see leakage.py)

# Exact duplicate rows within one file, above the reference's share.
DUPLICATES_FAIL = 0.002  # +0.2 % of the file
# Identical images carrying different labels (both files together), above the reference.
CONFLICTS_FAIL = 0.0005  # +0.05 % of all images

# Class balance: relative deviation of a class's share from its reference share.
BALANCE_FAIL = 0.2  # a class at 80 % or 120 % of its reference share

# Per-class drift of per-image statistics: binned two-sample Kolmogorov-Smirnov distance.
DRIFT_KS_FAIL = 0.1
KS_ALPHA = 0.001  # c(alpha) = sqrt(-ln(alpha / 2) / 2)
# Mean row / column brightness profile of a class: L1 distance relative to the reference.
PROFILE_FAIL = 0.1
DRIFT_WARN_FRACTION = 0.75  # warn at 0.075: beyond what an honest re-split shows (<= 0.055)

# Degenerate images (blank, constant, saturated), above the reference's share.
DEGENERATE_FAIL = 0.001  # +0.1 % of the file
BLANK_MAX = 10  # blank: no pixel brighter than this
SATURATED_SHARE = 0.5  # saturated: more than half the pixels at >= 250
INVERTED_FRAME = 128  # inverted: the median pixel of the outermost frame is this bright

# Label sanity: agreement of a nearest-class-mean classifier (fitted on the reference)
# with the candidate's labels may drop this much below its agreement on the reference.
LABEL_DROP_FAIL = 0.03

SIGMAS = 4.0  # how many standard errors a measured value must be off
WARN_FRACTION = 0.5  # warn at this fraction of the fail threshold
BBOX_LEVEL = 30  # bounding box: pixels brighter than this (as explore.ipynb)


def ks_critical(n: int, m: int, alpha: float = KS_ALPHA) -> float:
    """Two-sample KS critical distance for sample sizes ``n`` and ``m``."""
    if n == 0 or m == 0:
        return 1.0
    return math.sqrt(-math.log(alpha / 2) / 2) * math.sqrt((n + m) / (n * m))


def share_band(p: float, n: int) -> float:
    """``SIGMAS`` binomial standard errors of a share ``p`` measured on ``n`` items."""
    return SIGMAS * math.sqrt(max(p * (1 - p), 1e-12) / max(n, 1))
