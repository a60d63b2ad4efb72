"""The data-quality check's time next to the CSV load time, measured in the same run.

The candidate is the official Fashion-MNIST (60,000 + 10,000 images) as CSVs; the
reference is the profile of the official 70,000 images. Reported: the median of
``--repeat`` runs of loading both CSVs (``fashion_lib.csvio.load_csv``, the baseline every
publish and training pays anyway) and of the full check (measure + all checks), with a
breakdown of the check's parts and the ratio check / load.

    python benchmarks/quality_bench.py [--repeat 3] [--folder DIR]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path


def csvs(folder: Path | None) -> dict[str, Path]:
    from fashion_lib import data, settings
    from fashion_lib.sources import get_raw_files

    folder = folder or settings.data_dir()
    return data.convert(get_raw_files(progress=False, log=lambda m: None).paths, folder, log=print)


def timed(fn):
    """(wall seconds, CPU seconds of this process, result): on a shared machine the CPU time is
    the steadier figure, the wall time is what a user waits."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = fn()
    return (time.perf_counter() - wall, time.process_time() - cpu), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--folder", type=Path, help="where the CSVs are (or go); default: the data folder")
    args = parser.parse_args()

    from fashion_lib.csvio import load_csv
    from fashion_lib.quality import blas, checks, leakage, official

    def blas_one(fn, *args):
        with blas.single_thread():  # as measure() runs it
            return fn(*args)

    files = csvs(args.folder)
    reference = official()
    rows: dict[str, list[tuple[float, float]]] = {
        "load both CSVs (load_csv, baseline)": [],
        "full quality check": [],
        "  measure both files": [],
        "  compare with the reference": [],
        "  (leakage search alone)": [],
    }
    for _ in range(args.repeat):
        load, (train, test) = timed(lambda: (load_csv(files["train"]), load_csv(files["test"])))
        measure, measured = timed(lambda: checks.measure((train.images, train.labels), (test.images, test.labels)))
        compare, report = timed(lambda: checks.run_checks(measured, reference))
        leak, _ = timed(
            lambda: blas_one(
                leakage.leakage,
                train.images,
                train.labels,
                test.images,
                test.labels,
                measured.splits["train"].keys,
                measured.splits["test"].keys,
            )
        )
        for name, value in zip(
            rows, (load, (measure[0] + compare[0], measure[1] + compare[1]), measure, compare, leak)
        ):
            rows[name].append(value)
    median = {
        name: (statistics.median(v[0] for v in values), statistics.median(v[1] for v in values))
        for name, values in rows.items()
    }
    print(
        f"candidate: {len(train):,} + {len(test):,} images; reference: {reference.source} ({reference.images:,} images)"
    )
    print(
        f"verdict: {report.verdict}; median of {args.repeat} runs; load average {os.getloadavg()[0]:.1f} "
        f"on {os.cpu_count()} cores"
    )
    print(f"{'':<40} {'wall s':>8} {'CPU s':>8}")
    for name, (wall, cpu) in median.items():
        print(f"{name:<40} {wall:8.2f} {cpu:8.2f}")
    (load_wall, load_cpu), (check_wall, check_cpu) = (
        median["load both CSVs (load_csv, baseline)"],
        median["full quality check"],
    )
    print(f"ratio check / load: {check_wall / load_wall:.2f}x wall, {check_cpu / load_cpu:.2f}x CPU")


if __name__ == "__main__":
    main()
