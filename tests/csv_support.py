"""Small CSVs in the Fashion-MNIST layout for registry and publishing tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def fashion_csvs(folder: Path, seed: int) -> dict[str, Path]:
    """Two small CSVs in the Fashion-MNIST layout (every class, random pixels), published with --accept."""
    rng = np.random.default_rng(seed)
    header = "label," + ",".join(f"pixel{i}" for i in range(1, 785))
    folder.mkdir(parents=True, exist_ok=True)
    out = {}
    for split, rows in (("train", 40), ("test", 20)):
        lines = [header] + [f"{i % 10}," + ",".join(map(str, rng.integers(0, 256, 784))) for i in range(rows)]
        out[split] = folder / f"{split}.csv"
        out[split].write_text("\n".join(lines) + "\n")
    return out


def random_csv(path: Path, rows: int, seed: int) -> Path:
    """A CSV in the data layout written by the project's writer: random pixels, labels 0..9 in turn."""
    from fashion_lib.csvio import write_csv

    images = np.random.default_rng(seed).integers(0, 256, size=(rows, 28, 28), dtype=np.uint8)
    return write_csv(images, (np.arange(rows) % 10).astype(np.uint8), path)
