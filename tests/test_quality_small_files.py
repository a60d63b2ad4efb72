"""The data-quality circuit breaker on small files: honest subsets of the real Fashion-MNIST pass
(the thresholds widen for their sampling noise), damage sampling noise can't explain still fails."""

from __future__ import annotations

import numpy as np
import pytest
import quality_corruptions as Q

from fashion_lib import settings
from fashion_lib.classes import CLASS_NAMES
from fashion_lib.quality import checks, profile, stats, thresholds
from fashion_lib.quality.measure import measure_split
from fashion_lib.quality.report import FAIL, Check, QualityReport
from fashion_lib.sources import find_in

RAW = find_in(settings.DEBIAN_DATASET_DIR)
pytestmark = pytest.mark.skipif(RAW is None, reason="Debian package dataset-fashion-mnist is not installed")


@pytest.fixture(scope="module")
def data() -> Q.Data:
    return Q.official(RAW)


def subset(data: Q.Data, rows: int, seed: int | None) -> Q.Data:
    """``rows`` rows of each official file: the first ones (``seed`` None) or a random pick."""
    rng = None if seed is None else np.random.default_rng(seed)
    out = []
    for images, labels in data:
        pick = np.arange(rows) if rng is None else rng.choice(len(labels), rows, replace=False)
        out.append((images[pick], labels[pick]))
    return tuple(out)  # type: ignore[return-value]


def report(data: Q.Data) -> QualityReport:
    return checks.run_checks(checks.measure(*data), profile.official())


@pytest.mark.parametrize("rows", [300, 500])
@pytest.mark.parametrize("seed", [None, 1, 2, 3])
def test_an_honest_small_subset_passes(data: Q.Data, rows: int, seed: int | None) -> None:
    """Before, the row and column profiles were held to a fixed 0.1 at any size: 300 or 500 rows of
    each official file failed drift ('Trouser column profile, relative L1 distance 0.106 (threshold 0.100)')."""
    measured = checks.measure(*subset(data, rows, seed))
    checked = checks.run_checks(measured, profile.official())
    assert checked.verdict != FAIL, checked.table()
    table = checks.drift_table(measured.splits["test"], profile.official())
    profile_thresholds = [limit for row in table.values() for name, (_, limit) in row.items() if "profile" in name]
    assert max(profile_thresholds) > thresholds.PROFILE_FAIL  # widened for 30 to 50 images a class


@pytest.mark.parametrize("rows", [300, 500])
@pytest.mark.parametrize(
    "damage, fragment",
    [
        (lambda d: Q.edit_images(d, 1.0, lambda x: x[:, ::-1, :]), "row profile"),  # upside down: KS can't see it
        (lambda d: Q.darken_class(d, 1, 0.5), "Trouser"),
        (lambda d: Q.edit_images(d, 1.0, lambda x: Q.shifted(x, 1, 0)), "KS distance"),
    ],
    ids=["test upside down", "trousers half as bright", "test shifted 1px"],
)
def test_damage_still_fails_a_small_file(data: Q.Data, rows: int, damage, fragment: str) -> None:
    checked = report(damage(subset(data, rows, 1)))
    failed = {c.name: c for c in checked.failures}
    assert "drift (test)" in failed, checked.table()
    assert (
        fragment in failed["drift (test)"].message
        and failed["drift (test)"].measured > failed["drift (test)"].threshold
    )


def upside_down(split: tuple[np.ndarray, np.ndarray], cls: int, share: float) -> tuple[np.ndarray, np.ndarray]:
    """``share`` of the images of class ``cls`` turned upside down (a copy)."""
    images, labels = split
    rows = np.flatnonzero(labels == cls)
    rows = np.random.default_rng(4).choice(rows, round(share * len(rows)), replace=False)
    images = images.copy()
    images[rows] = images[rows][:, ::-1, :]
    return images, labels


def profile_thresholds(table: dict) -> dict[str, float]:
    return {
        f"{cls} {name}": limit for cls, row in table.items() for name, (_, limit) in row.items() if "profile" in name
    }


def test_a_full_size_file_is_held_to_the_profile_effect_size(data: Q.Data) -> None:
    """Before, the band came from the spread of the file being checked: the official test file's
    Sandal row profile was held to 0.121, not 0.1. Now it comes from the reference's spread."""
    for images, labels in data:
        limits = profile_thresholds(checks.drift_table(measure_split("file", images, labels), profile.official()))
        assert len(limits) == 20 and set(limits.values()) == {thresholds.PROFILE_FAIL}, limits


@pytest.mark.parametrize("share", [0.15, 0.2, 0.5])
def test_damage_cannot_widen_its_own_profile_threshold(data: Q.Data, share: float) -> None:
    """Before, turning 15 % of the test Sandals upside down widened the Sandal row profile's
    threshold to 0.129 (its distance 0.110 passed), 20 % to 0.132."""
    table = checks.drift_table(measure_split("test", *upside_down(data[1], 5, share)), profile.official())
    distance, limit = table["Sandal"]["row profile"]
    assert limit == thresholds.PROFILE_FAIL and distance > limit


def test_the_profile_band_comes_from_the_reference_and_shrinks_with_the_file() -> None:
    ref = profile.official()
    rows_ref = stats.profiles(ref.means()[5])[0]
    spread, signed = ref.spread("row profile")
    band = [thresholds.profile_band(spread[5], signed[5], rows_ref, n, 7000) for n in (1, 30, 300, 1000)]
    assert band == sorted(band, reverse=True) and band[1] > thresholds.PROFILE_FAIL > band[3]
    assert thresholds.t_sigmas(29) == pytest.approx(4.67, abs=0.01)  # t quantile, two-sided 6.3e-5
    assert thresholds.t_sigmas(6999) == pytest.approx(thresholds.SIGMAS, abs=0.01)
    old = {k: v for k, v in ref.to_dict().items() if k not in ("profile_spread", "profile_signed_spread")}
    lent = profile.Profile.from_dict(old).spread("column profile")  # published before spreads were kept
    assert all((a == b).all() for a, b in zip(lent, ref.spread("column profile")))


def test_a_failed_value_is_shown_with_the_digits_that_tell_it_from_its_threshold() -> None:
    """Before: 'drift (test)  0.100  <= 0.100  FAIL' for 0.100044 against 0.1."""
    drift = Check("drift (test)", 0.100044, 0.1, FAIL, "...", unit="distance")
    leak = Check("leakage train/test", 0.005812, 0.0058, FAIL, "...")
    table = QualityReport([drift, leak], "ref", {}).table()
    assert "0.10004  <= 0.10000  FAIL" in table and "0.581 %  <= 0.580 %  FAIL" in table
    assert Check("drift (train)", 0.05, 0.1, "pass", "...", unit="distance").shown() == ("0.050", "0.100")


@pytest.mark.parametrize(
    "rows, seed, split, statistic",
    [
        (300, 80, 1, "Bag ink area"),
        (500, 15, 0, "Bag bbox height"),
        (500, 138, 0, "Trouser ink area"),
        (2000, 40, 0, "Bag ink area"),
    ],
)
def test_a_file_is_not_failed_for_one_of_its_40_ks_statistics_by_chance(
    data: Q.Data, rows: int, seed: int, split: int, statistic: str
) -> None:
    """Before, each of a file's 40 KS statistics (10 classes x 4) was tested at alpha = 0.001, so
    about 1 in 100 honest random files of 300 to 2,000 rows failed drift on one of them (these did,
    on ``statistic``). Now the file's statistics together are held to alpha = 0.001 (Bonferroni)."""
    images, labels = data[split]
    pick = np.random.default_rng(seed).choice(len(labels), rows, replace=False)
    table = checks.drift_table(measure_split("file", images[pick], labels[pick]), profile.official())
    over = [f"{cls} {name}" for cls, row in table.items() for name, (value, limit) in row.items() if value > limit]
    assert over == [], table
    cls, name = statistic.split(" ", 1)
    c = CLASS_NAMES.index(cls)
    n, m = np.count_nonzero(labels[pick] == c), profile.official().class_counts[c]
    assert table[cls][name][0] > thresholds.ks_critical(n, m, alpha=thresholds.KS_ALPHA)  # the old limit
    assert thresholds.ks_critical(1000, 7000) < thresholds.DRIFT_KS_FAIL  # a full-size file keeps the effect size
