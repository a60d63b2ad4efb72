"""A run's ``history.csv`` read back: whether a file is one a run writes (a header with ``epoch`` and
``loss``, then a row of numbers per epoch from 1), before ``fashion model push`` publishes it.

:func:`fashion_lib.training.callbacks.write_history` writes the file; :meth:`RunFolder.check_history`
(:mod:`fashion_lib.runfolder`, which names the file) asks here.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path
from typing import Any

_NUMBER = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?|[-+]?(nan|inf|infinity)", re.IGNORECASE)


def history_problem(path: Path, epochs_run: Any, counted_in: str) -> str | None:
    """What is wrong with the history file ``path``, in words; None if nothing. ``epochs_run`` (an int,
    else not checked) is how many rows it must have, as the file ``counted_in`` says."""
    try:
        rows = list(csv.reader(path.read_text(encoding="utf-8").rstrip().splitlines()))  # blank lines at the end go
    except (OSError, UnicodeError, csv.Error) as exc:
        return f"cannot be read ({exc.__class__.__name__})"
    header = rows[0] if rows else []
    missing = [column for column in ("epoch", "loss") if column not in header]
    if missing:
        return f"no {missing[0]!r} column (header: {','.join(header)!r})" if header else "is empty"
    for line, row in enumerate(rows[1:], start=2):
        if len(row) != len(header):
            return f"line {line} has {len(row)} values, the header {len(header)} (cut short?)"
        bad = [column for column, value in zip(header, row) if not _NUMBER.fullmatch(value.strip())]
        if bad:
            return f"line {line}: {bad[0]} is {row[header.index(bad[0])]!r}, not a number"
        if float(row[header.index("epoch")]) != line - 1:
            return f"line {line}: epoch is {row[header.index('epoch')]}; expected {line - 1} (a row per epoch, from 1)"
    if len(rows) < 2:
        return "no rows after the header (one per epoch)"
    if isinstance(epochs_run, int) and len(rows) - 1 != epochs_run:
        return f"{len(rows) - 1} epoch row(s), but {counted_in} says {epochs_run} epochs were run (cut short?)"
    return None
