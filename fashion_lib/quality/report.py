"""The quality report: one row per check, as JSON (``quality.json``) and as text.

The report is a deterministic function of the candidate and its reference: no times,
no paths, floats rounded. Publishing the same data against the same reference gives
byte-identical JSON, so the report never changes what a version is.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

PASS, WARN, FAIL = "pass", "warn", "fail"
REPORT_FILE = "quality.json"
SCHEMA = 1


@dataclass(frozen=True)
class Check:
    """One check's outcome. ``measured`` and ``threshold`` are in ``unit``; ``direction``
    says which side fails: ``max`` (measured must stay at or below the threshold) or
    ``min`` (at or above)."""

    name: str
    measured: float
    threshold: float
    verdict: str
    message: str
    unit: str = "%"
    direction: str = "max"

    def show(self, value: float) -> str:
        return f"{value * 100:.2f} %" if self.unit == "%" else f"{value:.3f}"

    def shown(self) -> tuple[str, str]:
        """(measured, threshold) as text, with as many more digits as it takes to tell two
        different values apart (0.100044 against 0.1 is not '0.100 <= 0.100 FAIL')."""
        return apart(self.measured, self.threshold, self.unit)

    def line(self) -> str:
        """``name: message`` on one line."""
        return f"{self.name}: {self.message}"


def apart(measured: float, threshold: float, unit: str = "%") -> tuple[str, str]:
    """``measured`` and ``threshold`` (fractions for ``%``) as text in ``unit``: the usual
    digits (2 for %, 3 otherwise), more where those show two different values alike."""
    scale, digits, most, suffix = (100, 2, 4, " %") if unit == "%" else (1, 3, 6, "")
    a, b = measured * scale, threshold * scale
    while digits < most and a != b and f"{a:.{digits}f}" == f"{b:.{digits}f}":
        digits += 1
    return f"{a:.{digits}f}{suffix}", f"{b:.{digits}f}{suffix}"


def verdict_of(
    measured: float, threshold: float, baseline: float, direction: str = "max", warn_fraction: float = 0.5
) -> str:
    """fail beyond ``threshold``; warn beyond ``baseline`` + ``warn_fraction`` of the way to it."""
    sign = 1 if direction == "max" else -1
    if sign * (measured - threshold) > 1e-12:
        return FAIL
    if sign * (measured - (baseline + warn_fraction * (threshold - baseline))) > 1e-12:
        return WARN
    return PASS


@dataclass(frozen=True)
class QualityReport:
    """All checks of a candidate against a reference, plus what identifies both."""

    checks: list[Check]
    reference: str
    candidate: dict[str, Any]  # rows and SHA-256 of the loaded images + labels, per file
    drift: dict[str, Any] = field(default_factory=dict)  # per file, class and statistic (for plots)
    profile: dict[str, Any] = field(default_factory=dict)  # the candidate's own profile
    accepted: str | None = None  # the reason a person gave to publish despite failures

    @property
    def verdict(self) -> str:
        verdicts = {c.verdict for c in self.checks}
        return FAIL if FAIL in verdicts else WARN if WARN in verdicts else PASS

    @property
    def failures(self) -> list[Check]:
        return [c for c in self.checks if c.verdict == FAIL]

    @property
    def passed(self) -> bool:
        """True when nothing failed, or a person accepted the failures."""
        return self.verdict != FAIL or bool(self.accepted)

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA,
            "verdict": self.verdict,
            "accepted": self.accepted,
            "reference": self.reference,
            "candidate": self.candidate,
            "checks": [
                {
                    "name": c.name,
                    "measured": c.measured,
                    "threshold": c.threshold,
                    "unit": c.unit,
                    "direction": c.direction,
                    "verdict": c.verdict,
                    "message": c.message,
                }
                for c in self.checks
            ],
            "drift": self.drift,
            "profile": self.profile,
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":")) + "\n"

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> QualityReport:
        checks = [
            Check(
                c["name"],
                c["measured"],
                c["threshold"],
                c["verdict"],
                c["message"],
                c.get("unit", "%"),
                c.get("direction", "max"),
            )
            for c in data["checks"]
        ]
        return cls(
            checks,
            data["reference"],
            data["candidate"],
            data.get("drift", {}),
            data.get("profile", {}),
            data.get("accepted"),
        )

    def summary(self) -> dict[str, Any]:
        """What goes into the package metadata besides the file: everything but the profile."""
        data = self.to_dict()
        data.pop("drift")
        return data

    def table(self) -> str:
        """The report as an aligned text table, one row per check."""
        rows = [("check", "measured", "threshold", "verdict")]
        for c in self.checks:
            measured, threshold = c.shown()
            rows.append(
                (
                    c.name,
                    measured,
                    ("<= " if c.direction == "max" else ">= ") + threshold,
                    c.verdict.upper() if c.verdict != PASS else c.verdict,
                )
            )
        widths = [max(len(r[i]) for r in rows) for i in range(4)]
        lines = [f"{r[0]:<{widths[0]}}  {r[1]:>{widths[1]}}  {r[2]:>{widths[2]}}  {r[3]}" for r in rows]
        lines.insert(1, "-" * len(lines[0]))
        head = f"Data quality against {self.reference}: {self.verdict.upper()}"
        if self.accepted:
            head += f" (accepted: {self.accepted})"
        return "\n".join([head, *lines])

    def rows(self) -> list[dict[str, Any]]:
        """The checks as table rows (for a DataFrame in a notebook)."""
        rows = []
        for c in self.checks:
            measured, threshold = c.shown()
            rows.append(
                {
                    "check": c.name,
                    "measured": measured,
                    "threshold": ("<= " if c.direction == "max" else ">= ") + threshold,
                    "verdict": c.verdict,
                    "detail": c.message,
                }
            )
        return rows
