"""How the library talks to a person: progress lines on stderr and short top hashes.

Every module that reports progress takes a ``log: Log`` argument defaulting to
:func:`stderr`, so a notebook or a test can pass its own.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable

Log = Callable[[str], None]

SHORT_HASH = 12  # characters of a top hash shown to people; any unique prefix is accepted back


def stderr(message: str) -> None:
    """Print one progress line on stderr (stdout stays for results)."""
    print(message, file=sys.stderr, flush=True)


def short(top_hash: str | None) -> str:
    """The short form of a top hash (or any hex digest) people read and type."""
    return str(top_hash)[:SHORT_HASH]


def progress_bars() -> bool:
    """Whether progress bars are drawn: the rule quilt3's own bars follow (``registry.quilt``). Off when
    ``QUILT_MINIMIZE_STDOUT`` is ``true``; when it is not set, off on CI (``CI`` set) and in notebooks."""
    minimize = os.environ.get("QUILT_MINIMIZE_STDOUT")
    if minimize is not None:
        return minimize.lower() != "true"
    return not (os.environ.get("CI") or "ipykernel" in sys.modules)
