"""TensorFlow and Keras, imported once, without TensorFlow's start-up log lines.

TensorFlow's C++ core writes a few lines to file descriptor 2 while it loads (oneDNN
notes, CUDA probing on machines without a GPU), before ``TF_CPP_MIN_LOG_LEVEL`` can
hide them. With that level at 3 (our default, see ``fashion_lib/__init__.py``) the
import runs with descriptor 2 pointed at ``/dev/null``; Python exceptions still raise.
Set ``TF_CPP_MIN_LOG_LEVEL`` lower to see everything.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def _native_stderr_silenced() -> Iterator[None]:
    if os.environ.get("TF_CPP_MIN_LOG_LEVEL") != "3" or "tensorflow" in sys.modules:
        yield
        return
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def load_tensorflow() -> None:
    """Import TensorFlow and Keras (once)."""
    with _native_stderr_silenced():
        import keras  # noqa: F401
        import tensorflow  # noqa: F401
