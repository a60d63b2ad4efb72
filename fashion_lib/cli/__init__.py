"""``fashion``: a thin argparse layer over the library.

Each command parses its arguments, calls one library function and prints the answer; the
decisions live in the library. User mistakes print one line (``fashion: error: ...``) with the
exit code of the README's table (:mod:`fashion_lib.errors`); anything unforeseen prints one
line too and exits 70 (``FASHION_DEBUG=1`` shows the traceback). The registry is resolved
once, in :func:`main`. Heavy modules (TensorFlow, quilt3) are imported inside the commands,
so ``--help`` answers at once.

- :mod:`.main`: :func:`main`, errors to one line and an exit code.
- :mod:`.parser`: the whole parser, built from each command group's ``add_commands``.
- :mod:`.common`: the parser class, shared options, output helpers.
- :mod:`.data`, :mod:`.packages`, :mod:`.training`, :mod:`.model`: the commands, by noun.
"""

from __future__ import annotations

from .main import INTERNAL_ERROR, main
from .parser import build_parser
from .training import _config

__all__ = ["INTERNAL_ERROR", "_config", "build_parser", "main"]
