"""Where the pipeline asks the data-quality circuit breaker.

* :func:`gate_csvs` - before publishing (``data prepare``, ``data push``): format check,
  "is this content already a version?", then the quality check against the reference;
  a failure stops publishing unless a person accepts it (``--accept "reason"``).
* :func:`ensure_quality` - before training (``train``, ``run``): trust the version's
  stored report (``quality.json``, hash-verified with the package and checked against
  the loaded data), or check now if the version has none.
* :func:`check_command` - ``fashion data check``.

The reference (:mod:`.reference`) is, by default, the newest version of the same package whose
report passed without an override, else the official profile that ships with the library.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..console import Log, short
from ..console import stderr as _stderr
from ..errors import IntegrityError, QualityError
from ..scratch import scratch_folder
from .checks import run_checks
from .measure import data_sha256, measure
from .profile import Profile
from .reference import META_KEY, find_published, reference_profile
from .report import FAIL, REPORT_FILE, QualityReport

# --- the candidate ----------------------------------------------------------------------


def load_candidate(csvs: dict[str, Path]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Both CSVs loaded through the format circuit breaker: (datasets, format reports) by split."""
    from ..csvio import load_csv
    from ..fsutil import regular_file
    from ..validate import Report, known_rows

    datasets, reports = {}, {}
    for split, path in csvs.items():
        path = regular_file(Path(path), "a Fashion-MNIST CSV")  # a folder or FIFO is named as such
        data = load_csv(path, expected_rows=known_rows(path))  # a subset under the official names is fine
        datasets[split] = data
        reports[split] = Report(str(path), len(data), tuple(int(c) for c in np.bincount(data.labels, minlength=10)))
    return datasets, reports


def fingerprint(datasets: dict[str, Any]) -> dict[str, str]:
    """SHA-256 of each split's loaded images and labels (what a report is about)."""
    return {split: data_sha256(d.images, d.labels) for split, d in datasets.items()}


def check_data(train: Any, test: Any, reference: Profile, *, accept: str | None = None) -> QualityReport:
    """The quality report of two loaded datasets against ``reference``.

    ``accept`` (a person's reason) is recorded only when something failed.
    """
    report = run_checks(measure((train.images, train.labels), (test.images, test.labels)), reference)
    if accept and report.verdict == FAIL:
        report = dataclasses.replace(report, accepted=" ".join(accept.split()))
    return report


def failure_error(report: QualityReport, what: str) -> QualityError:
    lines = [
        f"{what} failed {len(report.failures)} data-quality check(s) against {report.reference} "
        '(fashion data check shows all; --accept "reason" publishes anyway):'
    ]
    lines += [f"  {c.line()}" for c in report.failures]
    return QualityError("\n".join(lines))


@dataclass
class Gate:
    """What the circuit breaker decided about CSVs about to be published."""

    reports: dict[str, Any]  # format reports, by split
    existing: str | None = None  # already published as this version: publish nothing
    repaired: tuple[str, ...] = ()  # with existing: its files that were damaged in the registry, written again
    report: QualityReport | None = None
    files: dict[str, Path] = field(default_factory=dict)  # extra package files (quality.json)
    meta: dict[str, Any] = field(default_factory=dict)  # extra package metadata


def _whole(name: str, registry: Any, existing: str, csvs: dict[str, Path], log: Log) -> list[str] | None:
    """Make this data's version whole (damaged files written again from ``csvs``): the files written
    again; None if ``csvs`` cannot (publish anew)."""
    from ..registry import open as open_registry
    from ..registry.publish import repair

    said = f"This data is already {name}@{short(existing)}"
    try:
        again = repair(open_registry(registry), name, existing, [Path(p) for p in csvs.values()])
    except IntegrityError as exc:
        log(f"{said}, but {exc}: checking it and publishing it again")
        return None
    done = f"it was damaged in the registry: its files were written again ({', '.join(again)})"
    log(f"{said} (its stored quality report stands); {done if again else 'nothing to publish'}")
    return again


@contextlib.contextmanager
def gate_csvs(
    csvs: dict[str, Path],
    *,
    name: str,
    registry: str | None = None,
    reference: str | None = None,
    accept: str | None = None,
    log: Log = _stderr,
) -> Iterator[Gate]:
    """Run both circuit breakers on CSVs about to become version of ``name``.

    Raises :class:`DataValidationError` (format) or :class:`QualityError` (content, not
    accepted). Yields a :class:`Gate`: either ``existing`` (this data is already a version:
    nothing to check or upload) or the report, with ``quality.json`` to add to the package.
    """
    from ..registry import open as open_registry
    from ..registry import refuse_unwritable

    datasets, reports = load_candidate(csvs)
    for r in reports.values():
        log(r.summary())
    existing = find_published(name, registry, fingerprint(datasets))
    repaired = _whole(name, registry, existing, csvs, log) if existing else None
    if repaired is not None:
        yield Gate(reports, existing=existing, repaired=tuple(repaired))
        return
    refuse_unwritable(open_registry(registry), name)  # new data: a registry it can't go to is said before the check
    report = check_data(
        datasets["train"],
        datasets["test"],
        reference_profile(name, registry=registry, top_hash=reference),
        accept=accept,
    )
    log(report.table())
    if not report.passed:
        raise failure_error(report, f"{csvs['train'].name} + {csvs['test'].name}")
    if report.accepted:
        log(f"Publishing despite {len(report.failures)} failed check(s), accepted: {report.accepted}")
    with scratch_folder("fashion-quality-") as scratch:  # swept by the next push if this one is killed outright
        path = scratch / REPORT_FILE
        path.write_text(report.to_json(), encoding="utf-8")
        yield Gate(reports, report=report, files={REPORT_FILE: path}, meta={META_KEY: report.summary()})


def quality_summary(meta: dict) -> dict[str, Any] | None:
    """The verdict of a data version's stored report, for a model's lineage (None if it has none)."""
    quality = meta.get(META_KEY)
    if not quality:
        return None
    return {
        "verdict": quality.get("verdict"),
        "accepted": quality.get("accepted"),
        "reference": quality.get("reference"),
        "failed": [c["name"] for c in quality.get("checks", []) if c.get("verdict") == FAIL],
    }


# --- before training --------------------------------------------------------------------


def ensure_quality(version: Any, *, log: Log = _stderr) -> QualityReport:
    """The quality report of a loaded data version (:class:`fashion_lib.data.DataVersion`).

    A stored ``quality.json`` (hash-verified on fetch) is trusted if it describes exactly
    the loaded data; a version without one is checked now. Raises unless it passed.
    """
    label = f"{version.name}@{short(version.top_hash)}"
    shas = {
        "train": data_sha256(version.train.images, version.train.labels),
        "test": data_sha256(version.test.images, version.test.labels),
    }
    stored = version.files.get(REPORT_FILE)
    if stored is not None:
        try:
            report = QualityReport.from_dict(json.loads(Path(stored).read_text(encoding="utf-8")))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise IntegrityError(
                f"{REPORT_FILE} in {label} cannot be read ({exc.__class__.__name__}); republish the data package"
            ) from None
        if {s: report.candidate.get(s, {}).get("sha256") for s in shas} != shas:
            raise IntegrityError(
                f"{REPORT_FILE} in {label} describes other data than the package's CSVs; republish the data package"
            )
        log(
            f"Data quality: {report.verdict} ({len(report.checks)} checks against {report.reference}, "
            f"stored with {label}{'; accepted: ' + report.accepted if report.accepted else ''})"
        )
    else:
        log(f"{label} has no quality report (published before the data-quality check, or around it); checking now")
        report = check_data(
            version.train,
            version.test,
            reference_profile(version.name, registry=version.registry, exclude=version.top_hash),
        )
        log(report.table())
    if not report.passed:
        raise failure_error(report, label)
    return report


# --- fashion data check -----------------------------------------------------------------


def check_command(
    datasets: dict[str, Any],
    *,
    what: str,
    exclude: str | None,
    name: str,
    registry: Any = None,
    reference: str | None = None,
    json_path: str | None = None,
) -> QualityReport:
    """``fashion data check`` on loaded data (``train`` and ``test`` datasets): print the table
    (stdout), write ``json_path`` if given; ``json_path="-"`` prints the report as one JSON
    document on stdout instead of the table. Raises :class:`QualityError` on failure."""
    report = check_data(
        datasets["train"],
        datasets["test"],
        reference_profile(name, registry=registry, top_hash=reference, exclude=exclude),
    )
    print(report.to_json() if json_path == "-" else report.table(), end="" if json_path == "-" else "\n", flush=True)
    if json_path and json_path != "-":
        from ..fsutil import atomic_path

        with atomic_path(Path(json_path)) as tmp:
            tmp.write_text(report.to_json(), encoding="utf-8")
    if report.verdict == FAIL:
        raise failure_error(report, what)
    return report
