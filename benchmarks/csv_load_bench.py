"""CSV load time and peak memory: our loader vs pandas.read_csv (defaults) and pyarrow.

Each loader runs in a fresh subprocess (so peak memory is its own), several times;
the medians are printed side by side with our ratio to the baseline.

    python benchmarks/csv_load_bench.py [--csv PATH] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

LOADERS = {
    "fashion_lib.load_csv": "from fashion_lib.csvio import load_csv\nd = load_csv(PATH)\nn = len(d)",
    "pandas.read_csv (defaults)": "import pandas as pd\nd = pd.read_csv(PATH)\nn = len(d)",
    "pandas.read_csv (pyarrow, uint8)": (
        "import pandas as pd, numpy as np\nd = pd.read_csv(PATH, engine='pyarrow', dtype=np.uint8)\nn = len(d)"
    ),
}

CHILD = """
import json, resource, sys, time
PATH = sys.argv[1]
{imports}
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t = time.perf_counter()
{body}
seconds = time.perf_counter() - t
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base
print(json.dumps({{"seconds": seconds, "peak_mb": peak / 1024, "rows": n}}))
"""


def run_once(body: str, csv: Path) -> dict:
    imports = "\n".join(line for line in body.splitlines() if line.startswith(("import", "from")))
    code = CHILD.format(imports=imports, body="\n".join(ln for ln in body.splitlines() if ln not in imports))
    out = subprocess.run([sys.executable, "-c", code, str(csv)], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def ensure_csv(path: Path | None) -> Path:
    if path:
        return path
    from fashion_lib import idx
    from fashion_lib.csvio import write_csv
    from fashion_lib.settings import TRAIN_CSV, data_dir
    from fashion_lib.sources import get_raw_files

    existing = data_dir() / TRAIN_CSV
    if existing.is_file():
        return existing
    raw = get_raw_files().paths
    target = Path(tempfile.mkdtemp()) / TRAIN_CSV
    return write_csv(
        idx.load_images(raw["train-images-idx3-ubyte"]), idx.load_labels(raw["train-labels-idx1-ubyte"]), target
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--csv", type=Path)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    csv = ensure_csv(args.csv)
    print(f"CSV: {csv} ({csv.stat().st_size / 1e6:.0f} MB), median of {args.repeat} runs each\n")
    results = {}
    for _ in range(args.repeat):  # interleave loaders so machine noise hits all alike
        for name, body in LOADERS.items():
            results.setdefault(name, []).append(run_once(body, csv))
    ours = results["fashion_lib.load_csv"]
    base = results["pandas.read_csv (defaults)"]
    t0, m0 = (statistics.median(r[k] for r in base) for k in ("seconds", "peak_mb"))
    print(f"{'loader':<34} {'seconds':>8} {'peak MB':>8} {'time vs pandas':>15} {'memory vs pandas':>17}")
    for name, runs in results.items():
        t, m = (statistics.median(r[k] for r in runs) for k in ("seconds", "peak_mb"))
        print(f"{name:<34} {t:>8.2f} {m:>8.0f} {t / t0:>14.2f}x {m / m0:>16.2f}x")
    t1 = statistics.median(r["seconds"] for r in ours)
    print(f"\nours is {t0 / t1:.2f}x faster than pandas defaults")


if __name__ == "__main__":
    main()
