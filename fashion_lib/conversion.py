"""The four raw IDX files -> the two CSVs, skipped when the CSVs are still what the conversion wrote.

A stamp beside the CSVs records the raw files' SHA-256 and the CSVs' sizes and SHA-256; a CSV is
reused only while all of them still match, so a hand-edited CSV is written again from the verified
IDX files, never published as the official data. Hashing both CSVs (about 0.8 s for their 155 MB)
costs a third of converting them again (about 2.7 s).
"""

from __future__ import annotations

import json
import stat
from pathlib import Path
from typing import Any

from . import settings
from .console import Log
from .console import stderr as _stderr
from .csvio import write_csv
from .fsutil import atomic_path, new_folder
from .hashing import sha256_hex
from .idx import load_images, load_labels
from .sources import RAW_FILES

SPLITS = {"train": (settings.TRAIN_CSV, "train"), "test": (settings.TEST_CSV, "t10k")}
_STAMP = ".fashion-source.json"
_MAX_STAMP = 1 << 16  # a stamp larger than this is none of ours: not read


def convert(raw: dict[str, Path], folder: Path, log: Log = _stderr) -> dict[str, Path]:
    """Write both CSVs from the IDX files, unless the conversion's own copies are still there, unchanged.

    If this call made ``folder`` and does not finish (Ctrl-C, a full disk), what it wrote is removed
    again, the folder too."""
    with new_folder(folder) as written:
        stamp_path = folder / _STAMP
        stamp = _read_stamp(stamp_path)
        csvs = {split: folder / csv for split, (csv, _) in SPLITS.items()}
        same_source = stamp.get("source_sha256") == RAW_FILES
        stale = [split for split, csv in csvs.items() if not (same_source and _unchanged(csv, stamp))]
        if not stale:
            return csvs
        for split in stale:
            csv, prefix = csvs[split], SPLITS[split][1]
            log(f"Writing {settings.display_path(csv)} ...")
            images = load_images(raw[f"{prefix}-images-idx3-ubyte"])
            labels = load_labels(raw[f"{prefix}-labels-idx1-ubyte"])
            written.append(write_csv(images, labels, csv))
        wanted = {
            "source_sha256": RAW_FILES,
            "sizes": {p.name: p.stat().st_size for p in csvs.values()},
            "sha256": {p.name: sha256_hex(p) if s in stale else stamp["sha256"][p.name] for s, p in csvs.items()},
        }
        with atomic_path(stamp_path) as tmp:
            tmp.write_text(json.dumps(wanted, indent=1))
        written.append(stamp_path)
    return csvs


def _read_stamp(path: Path) -> dict[str, Any]:
    """The stamp's record, or an empty one where there is none that can be read (then the CSVs are rebuilt)."""
    try:
        if not path.is_file() or path.stat().st_size > _MAX_STAMP:
            return {}
        found = json.loads(path.read_bytes())
    except (OSError, ValueError, RecursionError):
        return {}
    return found if isinstance(found, dict) else {}


def _unchanged(csv: Path, stamp: dict[str, Any]) -> bool:
    """Whether ``csv`` is a regular file of the size and SHA-256 the stamp recorded for it."""
    sizes, hashes = stamp.get("sizes"), stamp.get("sha256")
    if not isinstance(sizes, dict) or not isinstance(hashes, dict):
        return False
    try:
        found = csv.stat()
    except OSError:
        return False
    if not stat.S_ISREG(found.st_mode) or found.st_size != sizes.get(csv.name):
        return False
    try:
        return sha256_hex(csv) == hashes.get(csv.name)
    except OSError:  # unreadable: not known to be unchanged, so it is written again
        return False
