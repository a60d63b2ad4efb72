"""Opt-in CPU accounting per test: ``PYTHONPATH=tests pytest -p cpu_profile`` (xdist workers too).

For each test (setup, call and teardown, module fixtures included) it records the process's own
CPU (user + sys) plus the CPU of the subprocesses it waited for (``RUSAGE_CHILDREN``: the
``fashion`` CLI, papermill kernels, docker clients; not containers, which run under dockerd), and
appends ``file<TAB>test<TAB>self_s<TAB>children_s<TAB>wall_s`` to ``$FASHION_CPU_LOG`` (default
``cpu-profile.tsv``) as soon as the test ends, so a stopped run keeps what it measured.
``python tests/cpu_profile.py LOG`` sums it per file, most CPU first. Normal runs never load it.
"""

import os
import resource
import sys
import time
from collections import defaultdict

import pytest


def _cpu(who: int) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    """Charge everything between a test's setup and its teardown to it; one line per test."""
    start = (_cpu(resource.RUSAGE_SELF), _cpu(resource.RUSAGE_CHILDREN), time.monotonic())
    yield
    own = _cpu(resource.RUSAGE_SELF) - start[0]
    children = _cpu(resource.RUSAGE_CHILDREN) - start[1]
    line = f"{item.path.name}\t{item.name}\t{own:.2f}\t{children:.2f}\t{time.monotonic() - start[2]:.2f}\n"
    with open(os.environ.get("FASHION_CPU_LOG", "cpu-profile.tsv"), "a", encoding="utf-8") as log:
        log.write(line)  # one short write in append mode: workers' lines never interleave


def summary(path: str) -> list[tuple[str, float, float, float]]:
    """Per file: (name, own CPU s, subprocess CPU s, wall s), most CPU first."""
    sums: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0])
    with open(path, encoding="utf-8") as log:
        for line in log:
            name, _, *figures = line.rstrip("\n").split("\t")
            for place, value in enumerate(figures):
                sums[name][place] += float(value)
    return sorted(((name, *values) for name, values in sums.items()), key=lambda row: -(row[1] + row[2]))


if __name__ == "__main__":
    print("file\tcpu_s\town_s\tchildren_s\twall_s")
    for name, own, children, wall in summary(sys.argv[1]):
        print(f"{name}\t{own + children:.1f}\t{own:.1f}\t{children:.1f}\t{wall:.1f}")
