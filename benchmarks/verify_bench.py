"""``fashion packages verify`` over the full data package vs ``sha256sum`` of the same files, in one run.

The data package is prepared from the Debian package's IDX files into a temporary
registry (``fashion data prepare``, not timed). Then, best of ``--repeat``:

* ours: ``fashion_lib.registry.verify`` - every manifest checked against its top hash and
  every object re-hashed (quilt3's chunked SHA-256) from the registry's own store;
* baseline: GNU ``sha256sum`` of the same object files (plain SHA-256, no manifests), and
  ``openssl dgst -sha256`` (the same OpenSSL SHA-256 code Python's hashlib uses).

    python benchmarks/verify_bench.py [--repeat 3] [--idx-dir /usr/share/datasets/fashion-mnist]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def best(repeat: int, run: Callable[[], object]) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--idx-dir", default="/usr/share/datasets/fashion-mnist")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="fashion-verify-bench-") as tmp:
        home, reg = Path(tmp) / "home", Path(tmp) / "registry"
        env = dict(os.environ, FASHION_HOME=str(home), PYTHONPATH=str(ROOT))
        print("preparing the data package (not timed) ...", file=sys.stderr, flush=True)
        subprocess.run(
            [sys.executable, "-m", "fashion_lib", "data", "prepare", "--registry", str(reg), "--source", args.idx_dir],
            env=env,
            check=True,
            capture_output=True,
        )
        sys.path.insert(0, str(ROOT))
        from fashion_lib import registry

        objects = sorted(str(p) for p in (reg / "objects").iterdir())
        total = sum(os.path.getsize(p) for p in objects)
        report = registry.verify(registry=str(reg))
        assert not report.problems, report.problems
        ours = best(args.repeat, lambda: registry.verify(registry=str(reg)))
        base = best(args.repeat, lambda: subprocess.run(["sha256sum", *objects], check=True, capture_output=True))
        ssl = (
            best(
                args.repeat,
                lambda: subprocess.run(["openssl", "dgst", "-sha256", *objects], check=True, capture_output=True),
            )
            if shutil.which("openssl")
            else None
        )
    print(f"data package: {len(objects)} objects, {total / 1e6:.1f} MB; best of {args.repeat}")
    print(f"packages verify : {ours:6.3f} s  ({total / ours / 1e6:6.0f} MB/s)")
    print(f"sha256sum       : {base:6.3f} s  ({total / base / 1e6:6.0f} MB/s)")
    if ssl:
        print(f"openssl dgst    : {ssl:6.3f} s  ({total / ssl / 1e6:6.0f} MB/s)  (SHA-NI where the CPU has it)")
    print(f"ratio           : {ours / base:6.2f}x sha256sum's time" + (f", {ours / ssl:.2f}x openssl's" if ssl else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
