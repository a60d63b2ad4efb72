"""CSV write time: fashion_lib.csvio.write_csv vs the per-row formatting it replaced.

Writes the 60,000-image training set (from the Debian ``dataset-fashion-mnist`` files,
else a same-sized random uint8 array) several times with each writer, interleaved so
machine noise hits both alike; prints the medians, the ratio, and checks the two files
are byte-identical.

    python benchmarks/csv_write_bench.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from fashion_lib import idx, settings, sources
from fashion_lib.csvio import HEADER, write_csv
from fashion_lib.fsutil import atomic_path


def per_row_write_csv(images: np.ndarray, labels: np.ndarray, path: Path) -> Path:
    """The baseline: write_csv as it was, a Python list comprehension over each row's 785 values."""
    rows = np.concatenate([labels.reshape(-1, 1), images.reshape(len(images), -1)], axis=1)
    text = [str(i).encode() for i in range(256)]
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        fh.write(HEADER.encode() + b"\n")
        for start in range(0, len(rows), 2000):
            block = rows[start : start + 2000]
            fh.write(b"".join(b",".join([text[v] for v in row]) + b"\n" for row in block.tolist()))
    return path


WRITERS: dict[str, Callable[[np.ndarray, np.ndarray, Path], Path]] = {
    "fashion_lib.write_csv": write_csv,
    "per-row formatting (old)": per_row_write_csv,
}


def training_set() -> tuple[np.ndarray, np.ndarray, str]:
    """The real training images and labels, else a random stand-in of the same shape."""
    found = sources.find_in(settings.DEBIAN_DATASET_DIR)
    if found is not None:
        images = idx.load_images(found["train-images-idx3-ubyte"])
        labels = idx.load_labels(found["train-labels-idx1-ubyte"])
        return images, labels, f"Fashion-MNIST train, {settings.DEBIAN_DATASET_DIR}"
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(60_000, 28, 28), dtype=np.uint8)
    return images, rng.integers(0, 10, size=60_000, dtype=np.uint8), "random uint8 (Debian files absent)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    images, labels, what = training_set()
    folder = Path(tempfile.mkdtemp())
    print(f"{len(images)} images: {what}; median of {args.repeat} runs each\n")
    seconds: dict[str, list[float]] = {name: [] for name in WRITERS}
    outputs = {}
    for _ in range(args.repeat):
        for i, (name, writer) in enumerate(WRITERS.items()):
            path = folder / f"{i}.csv"
            start = time.perf_counter()
            writer(images, labels, path)
            seconds[name].append(time.perf_counter() - start)
            outputs[name] = path
    ours, base = (statistics.median(seconds[name]) for name in WRITERS)
    size = outputs["fashion_lib.write_csv"].stat().st_size
    print(f"{'writer':<26} {'seconds':>8} {'MB/s':>8}")
    for name, runs in seconds.items():
        t = statistics.median(runs)
        print(f"{name:<26} {t:>8.2f} {size / 1e6 / t:>8.0f}")
    same = len({p.read_bytes() for p in outputs.values()}) == 1
    print(f"\nfashion_lib.write_csv is {base / ours:.1f}x faster; files byte-identical: {same}")
    for path in outputs.values():
        path.unlink()
    folder.rmdir()


if __name__ == "__main__":
    main()
