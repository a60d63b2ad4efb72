"""The data-quality circuit breaker on the real Fashion-MNIST: clean data passes, each damage trips its check."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
import quality_corruptions as Q

from fashion_lib import settings
from fashion_lib.quality import checks, leakage, profile, thresholds
from fashion_lib.quality.report import FAIL, PASS, QualityReport
from fashion_lib.sources import find_in

RAW = find_in(settings.DEBIAN_DATASET_DIR)
pytestmark = pytest.mark.skipif(RAW is None, reason="Debian package dataset-fashion-mnist is not installed")


@pytest.fixture(scope="module")
def data() -> Q.Data:
    return Q.official(RAW)


@pytest.fixture(scope="module")
def clean(data: Q.Data) -> checks.Measurement:
    return checks.measure(*data)


def _report(data: Q.Data) -> QualityReport:
    return checks.run_checks(checks.measure(*data), profile.official())


def _upside_down(split: tuple[np.ndarray, np.ndarray], cls: int, share: float) -> tuple[np.ndarray, np.ndarray]:
    """``share`` of the images of class ``cls`` turned upside down (a copy)."""
    images, labels = split
    rows = np.random.default_rng(4).choice(np.flatnonzero(labels == cls), round(share * np.sum(labels == cls)), False)
    images = images.copy()
    images[rows] = images[rows][:, ::-1, :]
    return images, labels


def _verdicts(report: QualityReport) -> dict[str, str]:
    return {c.name: c.verdict for c in report.checks}


@pytest.mark.slow  # measures the real 70,000 images
def test_committed_official_profile_is_what_the_real_files_give(clean: checks.Measurement) -> None:
    rebuilt = clean.profile(profile.OFFICIAL_SOURCE)
    assert rebuilt.to_dict() == profile.official().to_dict()
    assert profile.OFFICIAL_PROFILE.stat().st_size < 200_000


@pytest.mark.slow  # measures the real 70,000 images
def test_official_data_passes_against_itself(clean: checks.Measurement) -> None:
    report = checks.run_checks(clean, profile.official())
    assert report.verdict == PASS, report.table()
    assert len(report.checks) == 12
    by_name = {c.name: c for c in report.checks}
    assert by_name["label sanity (test)"].measured > 0.6  # the classifier is far better than chance
    assert by_name["leakage train/test"].measured == profile.official().leak_share  # the handful upstream has


@pytest.mark.slow  # measures the real 70,000 images
@pytest.mark.parametrize("seed", [0, 1])
def test_honest_resplit_passes(data: Q.Data, seed: int) -> None:
    report = _report(Q.resplit(data, seed))
    assert report.verdict != FAIL, report.table()


@pytest.mark.slow  # measures the real 70,000 images
def test_report_is_deterministic_and_round_trips(clean: checks.Measurement) -> None:
    a = checks.run_checks(clean, profile.official()).to_json()
    b = checks.run_checks(clean, profile.official()).to_json()
    assert a == b
    assert "time" not in a and "seconds" not in a
    assert QualityReport.from_dict(json.loads(a)).to_json() == a


# The smallest damage each check catches (the README states the same figures).
@pytest.mark.parametrize(
    "damage, failing, fragment",
    [
        (lambda d: Q.leak(d, 0.005), "leakage train/test", "(50 exact"),
        (lambda d: Q.leak(d, 0.005, shift=(1, 0)), "leakage train/test", "near duplicates up to a 1-pixel shift"),
        (lambda d: Q.leak(d, 0.005, shift=(0, -1)), "leakage train/test", "of test images also in the training file"),
        (lambda d: Q.duplicate_rows(d, 0.005), "duplicates (train)", "repeat an earlier image"),
        (lambda d: Q.duplicate_rows(d, 0.001, relabel=True), "label conflicts", "identical twin with another label"),
        (lambda d: Q.shrink_class(d, 3, 0.5), "class balance (train)", "Dress is 5.3 % of the file"),
        (lambda d: Q.darken_class(d, 1, 0.9), "drift (test)", "Trouser mean intensity"),
        (lambda d: (d[0], _upside_down(d[1], 5, 0.15)), "drift (test)", "Sandal row profile"),
        (lambda d: Q.edit_images(d, 1.0, lambda x: Q.shifted(x, 1, 0)), "drift (test)", "KS distance"),
        (lambda d: Q.edit_images(d, 0.002, Q.blank), "degenerate images (test)", "(20 of 10,000)"),
        (lambda d: Q.edit_images(d, 0.002, Q.invert), "degenerate images (test)", "(20 of 10,000)"),
        (lambda d: Q.shift_labels(d, 0.05), "label sanity (train)", "agrees with"),
    ],
    ids=[
        "leak 0.5%",
        "leak 0.5% shifted down",
        "leak 0.5% shifted left",
        "duplicates 0.5%",
        "conflicts 0.1%",
        "class at half",
        "one class 10% darker",
        "15% of test sandals upside down",
        "all test shifted 1px",
        "blank 0.2%",
        "inverted 0.2%",
        "labels 5% shifted",
    ],
)
@pytest.mark.slow  # measures the real 70,000 images
def test_damage_trips_its_check(data: Q.Data, damage, failing: str, fragment: str) -> None:
    report = _report(damage(data))
    failed = {c.name: c for c in report.failures}
    assert failing in failed, report.table()
    assert fragment in failed[failing].message
    assert (
        failed[failing].measured > failed[failing].threshold
        if failed[failing].direction == "max"
        else failed[failing].measured < failed[failing].threshold
    )


@pytest.mark.slow  # measures the real 70,000 images
def test_a_tenth_of_labels_shifted_fails_label_sanity_in_both_ways(data: Q.Data) -> None:
    verdicts = _verdicts(_report(Q.shift_labels(data, 0.1)))
    assert verdicts["label sanity (train)"] == FAIL and verdicts["label sanity (test)"] == PASS


@pytest.mark.slow  # measures the real 70,000 images
def test_half_the_damage_passes_where_the_threshold_says_so(data: Q.Data) -> None:
    """Below the thresholds: a 0.1 % leak and a class at 90 % of its share do not stop anything."""
    verdicts = _verdicts(_report(Q.shrink_class(Q.leak(data, 0.001), 3, 0.9)))
    assert verdicts["leakage train/test"] != FAIL and verdicts["class balance (train)"] != FAIL


def test_thresholds_widen_for_small_files() -> None:
    assert thresholds.ks_critical(100, 7000) > thresholds.DRIFT_KS_FAIL > thresholds.ks_critical(1000, 7000)
    assert thresholds.share_band(0.1, 100) > thresholds.share_band(0.1, 10_000)


@pytest.mark.slow  # measures the real 70,000 images
def test_near_duplicates_survive_a_one_pixel_shift_and_distinct_images_do_not_match(data: Q.Data) -> None:
    (train, _), (test, _) = data
    moved = Q.shifted(test[:200], 0, 1)
    assert (leakage.shift_difference(moved, test[:200]) <= thresholds.NEAR_PIXEL_DIFF).all()
    assert (leakage.shift_difference(test[:200], train[:200]) > thresholds.NEAR_PIXEL_DIFF).mean() > 0.95
    features = leakage.fourier_features(test[:5])
    exact = np.abs(np.fft.rfft2(test[:5] / 255.0)[:, [0, 1, 2, 3, -3, -2, -1], :4]).reshape(5, -1) / 28
    np.testing.assert_allclose(features, exact, atol=1e-4)


@pytest.mark.slow  # measures the real 70,000 images
def test_image_keys_match_equal_images_only(data: Q.Data) -> None:
    (train, _), _ = data
    keys = leakage.image_keys(train)
    assert len(np.unique(keys)) == len(keys)  # no two official training images are identical
    copy = train[:3].copy()
    copy[0, 14, 14] ^= 1
    again = leakage.image_keys(copy)
    assert again[0] != keys[0] and (again[1:] == keys[1:3]).all()


def test_profile_rejects_another_version() -> None:
    data = dataclasses.asdict(profile.official())
    data["version"] = 99
    with pytest.raises(ValueError, match="profile version 99"):
        profile.Profile.from_dict(data)


def test_darker_scales_one_class_only_and_leaves_the_input() -> None:
    from fashion_lib.quality.whatif import darker

    images = np.full((4, 28, 28), 200, np.uint8)
    labels = np.array([1, 0, 1, 2])
    out = darker(images, labels, 1, 0.9)
    assert out[[0, 2]].max() == 180 and out[[1, 3]].min() == 200 and images.min() == 200
    with pytest.raises(ValueError, match="expected a number from 0 to 1"):
        darker(images, labels, 1, 1.5)


def test_reference_lookup_reads_manifests_newest_first_and_stops_at_the_first_that_serves(tmp_path, monkeypatch):
    """Ten versions: the newest two were published with --accept, the third passed. The lookup reads
    three manifests, not ten (it read every one, twice, before)."""
    from fashion_lib import registry
    from fashion_lib.quality import gate
    from fashion_lib.registry.local import LocalRegistry

    reg, name, source = str(tmp_path / "reg"), "t/data", tmp_path / "f.csv"
    good = profile.official().to_dict()
    for i in range(10):
        source.write_text(f"label,pixel1\n{i},0\n")
        quality = {"verdict": "pass", "accepted": "a reason" if i >= 8 else None, "profile": good}
        monkeypatch.setattr("fashion_lib.registry.base.now", lambda i=i: 1_700_000_000 + i)  # a second apart
        tops = registry.push(name, {"f.csv": source}, registry=reg, meta={gate.META_KEY: quality})
        if i == 7:
            serving = tops
    reads: list[str] = []
    manifest = LocalRegistry.manifest
    monkeypatch.setattr(LocalRegistry, "manifest", lambda self, n, t: reads.append(t) or manifest(self, n, t))
    assert gate.reference_profile(name, registry=reg).source == f"{name}@{serving[:12]}"
    assert len(reads) == 3
