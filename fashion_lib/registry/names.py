"""Package names, ``owner/name``: which a registry takes, and which it reads.

A name given to publish under, or given by a person (an option, a notebook parameter, a setting), is
ASCII letters, digits, ``_`` and ``-``. Unicode letters look alike while being different bytes (``é``
as one code point or as ``e`` and an accent; a Cyrillic ``а`` beside a Latin ``a``), so such names made
two packages that read the same, or a name that worked typed on one machine and not on another. A
name already in a registry is read by quilt3's own rule (``quilt3.util.PACKAGE_NAME_FORMAT``, which
takes Unicode letters too), so a package published under one before stays listed, verified and read.
"""

from __future__ import annotations

import re

from ..errors import RegistryError

NEW = re.compile(r"[A-Za-z0-9_-]+/[A-Za-z0-9_-]+")
STORED = re.compile(r"[\w-]+/[\w-]+")  # quilt3's rule: \w is any Unicode letter or digit


def check_name(name: str) -> None:
    """RegistryError unless ``name`` is one to publish under, or to take from a person."""
    _check(name, NEW)


def check_stored_name(name: str) -> None:
    """RegistryError unless ``name`` can be a package in a registry (quilt3's rule; no path tricks)."""
    _check(name, STORED)


def _check(name: str, rule: re.Pattern[str]) -> None:
    if not isinstance(name, str) or not rule.fullmatch(name):
        raise RegistryError(f"invalid package name {name!r}; expected 'owner/name' (ASCII letters, digits, _ and -)")
