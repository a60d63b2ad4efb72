"""Opt-in CPU accounting per test file: ``pytest -p cpu_profile`` (tests/ on ``PYTHONPATH``).

Records, for each test's setup, call and teardown, the process's own CPU (user + sys) plus the
CPU of the subprocesses it waited for (``RUSAGE_CHILDREN``: the ``fashion`` CLI, papermill
kernels, docker clients), summed per file. Each process (each xdist worker) appends its sums to
``$FASHION_CPU_LOG`` (default ``cpu-profile.tsv``) as ``file<TAB>self_s<TAB>children_s<TAB>wall_s``.
Normal runs never load it.
"""

import os
import resource
import time
from collections import defaultdict

import pytest

_totals: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0])


def _cpu(who: int) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    """Charge everything between a test's setup and its teardown (module fixtures included) to its file."""
    start = (_cpu(resource.RUSAGE_SELF), _cpu(resource.RUSAGE_CHILDREN), time.monotonic())
    yield
    sums = _totals[item.path.name]
    sums[0] += _cpu(resource.RUSAGE_SELF) - start[0]
    sums[1] += _cpu(resource.RUSAGE_CHILDREN) - start[1]
    sums[2] += time.monotonic() - start[2]


def pytest_unconfigure(config):
    """Append this process's sums to the log."""
    if not _totals:
        return
    with open(os.environ.get("FASHION_CPU_LOG", "cpu-profile.tsv"), "a", encoding="utf-8") as log:
        for name, (own, children, wall) in sorted(_totals.items()):
            log.write(f"{name}\t{own:.1f}\t{children:.1f}\t{wall:.1f}\n")
