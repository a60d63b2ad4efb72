"""Run numpy's matrix products on one thread for a while (OpenBLAS only; elsewhere a no-op).

The check's matrix products are small and many; on a busy 2-core machine OpenBLAS's
second thread mostly spin-waits: measured here, the full check took 4.0 s with two BLAS
threads and 1.4 s with one (``benchmarks/quality_bench.py``). This is what threadpoolctl
does, for the one library numpy wheels ship, without a new dependency.
"""

from __future__ import annotations

import contextlib
import ctypes
from collections.abc import Iterator
from functools import lru_cache
from typing import Any

_NAMES = (
    ("scipy_openblas_get_num_threads64_", "scipy_openblas_set_num_threads64_"),
    ("openblas_get_num_threads64_", "openblas_set_num_threads64_"),
    ("openblas_get_num_threads", "openblas_set_num_threads"),
)


@lru_cache(maxsize=1)
def _openblas() -> tuple[Any, Any] | None:
    """(get, set) thread-count functions of the OpenBLAS numpy loaded, or None."""
    try:
        import numpy  # noqa: F401  (loads the library)

        with open("/proc/self/maps", encoding="utf-8") as maps:
            paths = sorted({line.split()[-1] for line in maps if "openblas" in line.lower() and "/" in line})
        for path in paths:
            lib = ctypes.CDLL(path)
            for get, set_ in _NAMES:
                if hasattr(lib, get) and hasattr(lib, set_):
                    return getattr(lib, get), getattr(lib, set_)
    except OSError:
        pass
    return None


@contextlib.contextmanager
def single_thread() -> Iterator[None]:
    """BLAS on one thread inside the block; the previous count afterwards."""
    functions = _openblas()
    if functions is None:
        yield
        return
    get, set_ = functions
    before = int(get())
    set_(1)
    try:
        yield
    finally:
        set_(before)
