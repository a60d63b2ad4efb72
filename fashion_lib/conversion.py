"""The four raw IDX files -> the two CSVs, skipped when up-to-date copies already exist.

A stamp beside the CSVs records the raw files' SHA-256 and the CSVs' sizes; while both
still match, ``convert`` writes nothing.
"""

from __future__ import annotations

import json
from pathlib import Path

from . import settings
from .console import Log
from .console import stderr as _stderr
from .csvio import write_csv
from .idx import load_images, load_labels
from .sources import RAW_FILES

SPLITS = {"train": (settings.TRAIN_CSV, "train"), "test": (settings.TEST_CSV, "t10k")}
_STAMP = ".fashion-source.json"


def convert(raw: dict[str, Path], folder: Path, log: Log = _stderr) -> dict[str, Path]:
    """Write both CSVs from the IDX files, unless up-to-date copies already exist."""
    folder.mkdir(parents=True, exist_ok=True)
    stamp_path = folder / _STAMP
    wanted = {"source_sha256": RAW_FILES}
    csvs = {split: folder / csv for split, (csv, _) in SPLITS.items()}
    stamp = json.loads(stamp_path.read_text()) if stamp_path.is_file() else {}
    fresh = stamp.get("source_sha256") == RAW_FILES and all(
        p.is_file() and p.stat().st_size == stamp.get("sizes", {}).get(p.name) for p in csvs.values()
    )
    if fresh:
        return csvs
    for split, (_, prefix) in SPLITS.items():
        log(f"Writing {settings.display_path(csvs[split])} ...")
        images = load_images(raw[f"{prefix}-images-idx3-ubyte"])
        labels = load_labels(raw[f"{prefix}-labels-idx1-ubyte"])
        write_csv(images, labels, csvs[split])
    wanted["sizes"] = {p.name: p.stat().st_size for p in csvs.values()}
    stamp_path.write_text(json.dumps(wanted, indent=1))
    return csvs
