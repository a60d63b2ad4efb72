"""Every threshold of the data-quality circuit breaker, in one place.

Each check compares a candidate with its reference and fails when the difference is
both *practically* large (the ``*_FAIL`` effect size below) and *statistically* clear
for the candidate's size (``SIGMAS`` standard errors, or the two-sample KS critical
value at ``KS_ALPHA`` for a file): a 10,000-image test file is held to the effect size, a
1,000-image subset gets the wider band its sampling noise needs. A warning is half the
way there and never stops anything. The README lists the smallest damage each one catches.
"""

from __future__ import annotations

import math

import numpy as np

# Leakage: share of test images with an exact or near duplicate in the training file, above
# the official files' own share (33 near duplicates, 0.33 %; in proportion for fewer training rows),
# whatever the reference: the share grows with the training file, so a small reference's (0.00 %
# for 2,000 rows) would fail the full official data, the full files' would let a subset's leak of
# half a percent through, and a leaky reference's would let the next leak through.
LEAKAGE_FAIL = 0.0025  # +0.25 percentage points of the test file
OFFICIAL_TRAIN_ROWS = 60_000  # the official training file: its share is held in proportion for fewer rows
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
KS_ALPHA = 0.001  # for a file's KS statistics together: c = sqrt(-ln(KS_ALPHA / KS_TESTS / 2) / 2)
KS_TESTS = 40  # 10 classes x 4 statistics, each at KS_ALPHA / KS_TESTS (Bonferroni)
# Mean row / column brightness profile of a class: L1 distance relative to the reference
# (widened for small classes by profile_band, from the reference's spread).
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


def ks_critical(n: int, m: int, alpha: float = KS_ALPHA / KS_TESTS) -> float:
    """Two-sample KS critical distance for sample sizes ``n`` and ``m``, by default at the
    level that holds a file's 40 class statistics together to ``KS_ALPHA``."""
    if n == 0 or m == 0:
        return 1.0
    return math.sqrt(-math.log(alpha / 2) / 2) * math.sqrt((n + m) / (n * m))


def share_band(p: float, n: int) -> float:
    """``SIGMAS`` binomial standard errors of a share ``p`` measured on ``n`` items."""
    return SIGMAS * math.sqrt(max(p * (1 - p), 1e-12) / max(n, 1))


def t_sigmas(dof: int, sigmas: float = SIGMAS) -> float:
    """Student's t value with ``dof`` degrees of freedom as far in the tail as ``sigmas``
    normal standard errors (Cornish-Fisher, Abramowitz & Stegun 26.7.5: within 0.3 % from
    8 degrees of freedom, 2 % low at 5, lower below, where the band is wide anyway)."""
    z, nu = sigmas, max(dof, 1)
    terms = (
        (z**3 + z) / 4,
        (5 * z**5 + 16 * z**3 + 3 * z) / 96,
        (3 * z**7 + 19 * z**5 + 17 * z**3 - 15 * z) / 384,
        (79 * z**9 + 776 * z**7 + 1482 * z**5 - 1920 * z**3 - 945 * z) / 92160,
    )
    return z + sum(g / nu ** (k + 1) for k, g in enumerate(terms))


def profile_band(spread: np.ndarray, signed: float, reference: np.ndarray, n: int, m: int) -> float:
    """``SIGMAS`` standard errors of the relative L1 distance between a class's brightness
    profile over ``n`` candidate images and the ``reference`` profile over ``m`` images.

    ``spread`` and ``signed`` are the reference's (:func:`.stats.profile_spread`): the per-image
    standard deviation ``spread_i`` of row ``i``'s mean brightness, and ``signed``, a bound on
    that of any signed sum of the rows. Measured on the reference, they do not move with the
    candidate, so damage cannot widen its own threshold. Row ``i`` of an honest candidate's mean
    profile is off the reference's by noise of standard error ``s_i = spread_i * sqrt(1/n + 1/m)``;
    the L1 distance then averages ``sqrt(2/pi) * sum(s_i)``, and as a function of standard normal
    noise it is Lipschitz with constant ``signed * sqrt(1/n + 1/m)``, so (Gaussian concentration;
    a norm's median is below its mean) it exceeds that average by ``SIGMAS`` times the constant
    no more often than a normal value exceeds ``SIGMAS``. ``SIGMAS`` is the Student t value of the
    same tail (m - 1 degrees of freedom), as the spread is estimated on the reference's images.
    At the official sizes (1,000 and 6,000 images a class against 7,000) the band is below
    ``PROFILE_FAIL`` for every class, so full-size files are held to the effect size.
    """
    total = float(np.abs(reference).sum())
    if n == 0 or m == 0 or total == 0:
        return 0.0
    sigmas = t_sigmas(m - 1) if m >= 2 else SIGMAS
    average = math.sqrt(2 / math.pi) * float(np.sum(spread))
    return (average + sigmas * float(signed)) * math.sqrt(1 / n + 1 / m) / total
