"""Compare a measured candidate (:mod:`.measure`) with a reference profile.

Each ``check_*`` function returns :class:`~.report.Check` rows: measured value,
threshold, verdict and a one-line message. Thresholds come from :mod:`.thresholds`.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from ..classes import CLASS_NAMES, NUM_CLASSES
from . import blas, stats
from . import thresholds as T
from .measure import Measurement, SplitMeasure, measure
from .profile import OFFICIAL_SOURCE, Profile, class_mean_images, nearest_mean_predictions, official, round6
from .report import PASS, Check, QualityReport, apart, verdict_of

# --- the checks -------------------------------------------------------------------------


def _rate_check(name: str, count: int, n: int, baseline: float, effect: float, what: str, against: str = "") -> Check:
    """A share that must not rise more than ``effect`` (or its sampling band) above ``baseline``,
    the reference's share unless ``against`` says what it is instead."""
    measured = count / max(n, 1)
    threshold = baseline + max(effect, T.share_band(max(baseline, 1 / max(n, 1)), n))
    verdict = verdict_of(measured, threshold, baseline)
    shown, limit = apart(measured, threshold)
    against = against or f"reference {baseline * 100:.2f} %"
    message = f"{shown} {what} ({count:,} of {n:,}); {against}, threshold {limit}"
    return Check(name, round6(measured), round6(threshold), verdict, message)


def check_leakage(m: Measurement, ref: Profile) -> list[Check]:
    """Test images found in the training file, against the official files' own share (0.33 % for
    60,000 training rows), in proportion for a smaller training file, whatever the reference: the
    share grows with the training file (more rows, more test images find a twin), so neither a
    subset's share is a yardstick for the full files nor the full files' for a subset (where a leak
    of half a percent would pass). Nor can a leaky reference raise the bar for the next version."""
    test, rows = m.splits["test"].n, m.splits["train"].n
    what = (
        f"of test images also in the training file ({m.leak.exact:,} exact, "
        f"{m.leak.near - m.leak.exact:,} near duplicates up to a {T.NEAR_SHIFT}-pixel shift)"
    )
    natural = official().leak_share * min(1.0, rows / T.OFFICIAL_TRAIN_ROWS)
    against = f"reference {ref.leak_share * 100:.2f} %"
    if ref.leak_share != natural:
        against += f"; held to official Fashion-MNIST's {natural * 100:.2f} % for {rows:,} training rows"
    check = _rate_check("leakage train/test", m.leak.near, test, natural, T.LEAKAGE_FAIL, what, against)
    if check.verdict != PASS and m.leak.examples:  # CSV line numbers: the header is line 1
        pairs = ", ".join(f"test line {t + 2} ~ train line {r + 2}" for t, r in m.leak.examples[:2])
        check = dataclasses.replace(check, message=f"{check.message}; e.g. {pairs}")
    return [check]


def check_duplicates(m: Measurement, ref: Profile) -> list[Check]:
    rows = [
        _rate_check(
            f"duplicates ({s.name})",
            s.duplicates,
            s.n,
            ref.duplicate_share,
            T.DUPLICATES_FAIL,
            "of rows repeat an earlier image of the file",
        )
        for s in m.splits.values()
    ]
    rows.append(
        _rate_check(
            "label conflicts",
            m.conflicts,
            m.n,
            ref.conflict_share,
            T.CONFLICTS_FAIL,
            "of images have an identical twin with another label",
        )
    )
    return rows


def check_degenerate(m: Measurement, ref: Profile) -> list[Check]:
    return [
        _rate_check(
            f"degenerate images ({s.name})",
            s.degenerate,
            s.n,
            ref.degenerate_share,
            T.DEGENERATE_FAIL,
            "blank, constant, saturated or inverted",
        )
        for s in m.splits.values()
    ]


def check_balance(m: Measurement, ref: Profile) -> list[Check]:
    rows = []
    expected = np.asarray(ref.class_counts, float) / max(ref.images, 1)
    for s in m.splits.values():
        share = s.class_counts / max(s.n, 1)
        worst = (-1.0, 0, 0.0)  # (deviation / threshold, class, threshold)
        for c in range(NUM_CLASSES):
            p = expected[c]
            if p <= 0:
                continue
            threshold = max(T.BALANCE_FAIL, T.SIGMAS * np.sqrt((1 - p) / (max(s.n, 1) * p)))
            deviation = abs(share[c] / p - 1)
            worst = max(worst, (deviation / threshold, c, threshold))
        _, c, threshold = worst
        deviation = abs(share[c] / expected[c] - 1)
        message = (
            f"{CLASS_NAMES[c]} is {share[c] * 100:.1f} % of the file, reference {expected[c] * 100:.1f} % "
            f"({deviation * 100:.0f} % off; threshold {threshold * 100:.0f} %)"
        )
        rows.append(
            Check(
                f"class balance ({s.name})",
                round6(deviation),
                round6(threshold),
                verdict_of(deviation, threshold, 0.0),
                message,
            )
        )
    return rows


def drift_table(s: SplitMeasure, ref: Profile) -> dict[str, dict[str, tuple[float, float]]]:
    """class name -> statistic -> (distance, threshold), for one file."""
    ref_counts = np.asarray(ref.class_counts)
    ref_means = ref.means()
    means = class_mean_images(s.sums, s.class_counts)
    spreads = [ref.spread(name) for name in stats.PROFILES]  # the reference's: damage can't widen them
    table: dict[str, dict[str, tuple[float, float]]] = {}
    for c in range(NUM_CLASSES):
        n, m_ = int(s.class_counts[c]), int(ref_counts[c])
        if n == 0 or m_ == 0:
            continue
        row = {}
        ks_threshold = max(T.DRIFT_KS_FAIL, T.ks_critical(n, m_))
        for name in stats.BINS:
            row[name] = (stats.ks_distance(s.histograms[name][c], ref.histogram(name)[c]), ks_threshold)
        for name, now, ref_profile, (sd, signed) in zip(
            stats.PROFILES, stats.profiles(means[c]), stats.profiles(ref_means[c]), spreads
        ):
            threshold = max(T.PROFILE_FAIL, T.profile_band(sd[c], signed[c], ref_profile, n, m_))
            row[name] = (stats.profile_distance(now, ref_profile), threshold)
        table[CLASS_NAMES[c]] = {k: (round6(v), round6(t)) for k, (v, t) in row.items()}
    return table


def check_drift(m: Measurement, ref: Profile) -> tuple[list[Check], dict]:
    rows, tables = [], {}
    for s in m.splits.values():
        table = drift_table(s, ref)
        tables[s.name] = {cls: {k: v for k, (v, _) in row.items()} for cls, row in table.items()}
        cls, stat, (value, threshold) = max(
            ((cls, stat, vt) for cls, row in table.items() for stat, vt in row.items()),
            key=lambda item: item[2][0] / item[2][1],
        )
        over = sum(1 for row in table.values() for v, t in row.values() if v > t)
        kind = "KS distance" if stat in stats.BINS else "relative L1 distance"
        shown, limit = apart(value, threshold, "distance")
        message = (
            f"largest: {cls} {stat}, {kind} {shown} (threshold {limit}); "
            f"{over} of {sum(len(r) for r in table.values())} class statistics beyond their threshold"
        )
        # warn only where the difference is also beyond sampling noise (a re-split of the
        # official data moves a class statistic of the test file by up to ~0.05)
        verdict = verdict_of(value, threshold, 0.0, warn_fraction=T.DRIFT_WARN_FRACTION)
        rows.append(Check(f"drift ({s.name})", value, threshold, verdict, message, unit="distance"))
    return rows, tables


def check_labels(m: Measurement, ref: Profile) -> list[Check]:
    rows = []
    means = ref.means()
    base = ref.label_agreement
    for s in m.splits.values():
        agree = float(np.mean(nearest_mean_predictions(s.flat32, means) == s.labels)) if s.n else 0.0
        threshold = base - max(T.LABEL_DROP_FAIL, T.share_band(base, s.n))
        message = (
            f"a nearest-class-mean classifier fitted on the reference agrees with {agree * 100:.1f} % "
            f"of the labels; reference {base * 100:.1f} %, threshold {threshold * 100:.1f} %"
        )
        rows.append(
            Check(
                f"label sanity ({s.name})",
                round6(agree),
                round6(threshold),
                verdict_of(agree, threshold, base, direction="min"),
                message,
                direction="min",
            )
        )
    return rows


def run_checks(m: Measurement, ref: Profile, *, candidate_source: str = "candidate") -> QualityReport:
    """Every check of ``m`` against ``ref``, as a report (which carries ``m``'s own profile)."""
    with blas.single_thread():
        return _run_checks(m, ref, candidate_source)


def _run_checks(m: Measurement, ref: Profile, candidate_source: str) -> QualityReport:
    drift_rows, drift = check_drift(m, ref)
    rows = [
        *check_leakage(m, ref),
        *check_duplicates(m, ref),
        *check_balance(m, ref),
        *drift_rows,
        *check_degenerate(m, ref),
        *check_labels(m, ref),
    ]
    return QualityReport(rows, ref.source, m.candidate(), drift, m.profile(candidate_source).to_dict())


def build_official(source_dir: str | None = None) -> Profile:
    """The official profile (:func:`profile.official`), computed from the four upstream files (found or downloaded)."""
    from ..idx import load_images, load_labels
    from ..sources import get_raw_files

    raw = get_raw_files(source_dir, progress=False, log=lambda m: None).paths
    train = (load_images(raw["train-images-idx3-ubyte"]), load_labels(raw["train-labels-idx1-ubyte"]))
    test = (load_images(raw["t10k-images-idx3-ubyte"]), load_labels(raw["t10k-labels-idx1-ubyte"]))
    return measure(train, test).profile(OFFICIAL_SOURCE)
