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
import statistics
import time
from pathlib import Path


def csvs(folder: Path | None) -> dict[str, Path]:
    from fashion_lib import data, settings
    from fashion_lib.sources import get_raw_files

    folder = folder or settings.data_dir()
    return data.convert(get_raw_files(progress=False, log=lambda m: None).paths, folder, log=print)


def timed(fn):
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--folder", type=Path, help="where the CSVs are (or go); default: the data folder")
    args = parser.parse_args()

    from fashion_lib.csvio import load_csv
    from fashion_lib.quality import checks, leakage, official

    files = csvs(args.folder)
    reference = official()
    loads, totals, parts = [], [], {"measure (both files)": [], "  of which leakage search": [], "checks": []}
    for _ in range(args.repeat):
        load_s, (train, test) = timed(lambda: (load_csv(files["train"]), load_csv(files["test"])))
        measure_s, measured = timed(lambda: checks.measure((train.images, train.labels), (test.images, test.labels)))
        check_s, report = timed(lambda: checks.run_checks(measured, reference))
        leak_s, _ = timed(lambda: leakage.leakage(train.images, train.labels, test.images, test.labels,
                                                  measured.splits["train"].keys, measured.splits["test"].keys))
        loads.append(load_s)
        totals.append(measure_s + check_s)
        parts["measure (both files)"].append(measure_s)
        parts["  of which leakage search"].append(leak_s)
        parts["checks"].append(check_s)
    load, total = statistics.median(loads), statistics.median(totals)
    print(f"candidate: {len(train):,} + {len(test):,} images; reference: {reference.source} ({reference.images:,} images)")
    print(f"verdict: {report.verdict}; median of {args.repeat} runs")
    print(f"{'load both CSVs (load_csv, baseline)':<40} {load:7.2f} s")
    print(f"{'full quality check':<40} {total:7.2f} s   ratio to load: {total / load:.2f}x")
    for name, values in parts.items():
        print(f"{'  ' + name:<40} {statistics.median(values):7.2f} s")


if __name__ == "__main__":
    main()
