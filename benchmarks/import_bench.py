"""How long a ``fashion`` command waits for quilt3: our import against a plain ``import quilt3``.

Every command that reads or writes a registry imports quilt3 first. Each figure is a fresh
interpreter (the real cost: nothing cached in ``sys.modules``), the two kinds alternated so a
busy machine slows both alike; the median of ``--repeat`` of each is printed, and the ratio.

* ours: ``fashion_lib.registry.quilt.quilt()`` (quilt3 with jsonschema's optional
  ``rfc3987_syntax`` hidden: it compiles 38 lark grammars at import);
* baseline: ``import quilt3`` and the same submodules, as any other program would.

    python benchmarks/import_bench.py [--repeat 7]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OURS = "from fashion_lib.registry.quilt import quilt; quilt()"
PLAIN = "import quilt3, quilt3.backends, quilt3.data_transfer, quilt3.hooks, quilt3.telemetry"


def seconds(code: str) -> float:
    """Wall time of a fresh interpreter that runs ``code`` (start-up included, as a command has it)."""
    env = dict(os.environ, PYTHONPATH=str(ROOT), QUILT_DISABLE_USAGE_METRICS="true")
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], env=env, check=True)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    seconds("pass")  # warm the file cache for both
    ours, plain, bare = [], [], []
    for _ in range(args.repeat):
        ours.append(seconds(OURS))
        plain.append(seconds(PLAIN))
        bare.append(seconds("pass"))
    o, p, b = (statistics.median(times) for times in (ours, plain, bare))
    print(f"fresh interpreters, median of {args.repeat} each, alternated")
    print(f"python -c pass        : {b:6.2f} s  (start-up alone)")
    print(f"fashion_lib's quilt() : {o:6.2f} s")
    print(f"plain import quilt3   : {p:6.2f} s")
    print(f"ratio                 : {o / p:6.2f}x plain's time ({(o - b) / (p - b):.2f}x without start-up)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
