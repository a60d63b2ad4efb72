"""The second that names a new version, and version pointers dated after the clock.

quilt3 names a version pointer by the unix second of its push. A push takes this second, or
one after the newest pointer so versions keep their order; a pointer dated in the future
(edited by hand, or written by a machine whose clock runs ahead) therefore pulls every later
version's stamp after it. A push says so in one line, and ``fashion packages verify`` notes it.
"""

from __future__ import annotations

from collections.abc import Mapping

from ..console import Log, stderr
from . import base
from .base import POINTERS, Registry

AHEAD_SLACK = 60  # seconds: a burst of pushes within one second runs a few stamps ahead of the clock


def next_stamp(reg: Registry, name: str, pointers: Mapping[str, str], log: Log = stderr) -> int:
    """This second, or one after the newest pointer of ``name``; a warning line if that one is in the future."""
    clock = base.now()
    dated = _dated(pointers)
    newest, key = dated[-1] if dated else (0, "")
    if newest > clock + AHEAD_SLACK:
        where = reg.where(f"{POINTERS}/{name}/{key}")
        log(f"warning: {where} is dated {date(newest)}, in the future; this version is stamped after it")
    return max(clock, newest + 1)


def ahead(reg: Registry, name: str, pointers: Mapping[str, str]) -> list[str]:
    """The pointers of ``name`` dated in the future, as a person finds them (REG/.quilt/...), oldest first."""
    clock = base.now()
    return [reg.where(f"{POINTERS}/{name}/{key}") for stamp, key in _dated(pointers) if stamp > clock + AHEAD_SLACK]


def date(stamp: int) -> str:
    """A pointer's stamp in words (UTC)."""
    when = base.stamp_time(stamp)
    return when.strftime("%Y-%m-%d %H:%M:%S UTC") if when else f"after the year 9999 (second {stamp})"


def _dated(pointers: Mapping[str, str]) -> list[tuple[int, str]]:
    """(stamp, pointer name) of every dated pointer, oldest first (``latest`` is not dated)."""
    return sorted((int(key), key) for key in pointers if key.isdigit())
