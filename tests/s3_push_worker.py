"""A team member publishing versions: ``s3_push_worker.py REGISTRY NAME WHO COUNT START_AT FOLDER``.

Waits until ``START_AT`` (a Unix time, so two workers start together), then publishes
``COUNT`` versions of ``NAME`` with contents of its own, and prints each top hash.
"""

import sys
import time
from pathlib import Path

from fashion_lib import registry


def main() -> None:
    where, name, who, count, start_at, folder = sys.argv[1:7]
    folder = Path(folder)
    folder.mkdir(parents=True)
    registry.quilt()  # import quilt3 before the start line
    time.sleep(max(0.0, float(start_at) - time.time()))
    for i in range(int(count)):  # bounded: one version per turn
        path = folder / "test.csv"
        path.write_text(f"label,pixel1\n{i % 10},{len(who)}\n# {who} {i}\n")
        print(registry.push(name, {"test.csv": path}, registry=where, message=f"{who} {i}"), flush=True)


if __name__ == "__main__":
    main()
