"""The ``fashion`` command's entry point (pyproject's ``[project.scripts]`` and ``python -m fashion_lib``):
it imports nothing of the CLI before it can take Ctrl-C."""

from __future__ import annotations

import sys


def command(argv: list[str] | None = None) -> int:
    """The ``fashion`` command: the console script's entry point (pyproject's ``[project.scripts]``), and
    ``python -m fashion_lib``'s; :func:`fashion_lib.cli.main` does the work and installs its own handlers.

    Ctrl-C while the CLI's modules load (about 60 ms, before ``main`` takes Ctrl-C), or after ``main``
    gave Ctrl-C back, is ``fashion: interrupted`` and exit 130, not a traceback. The window that remains
    is Python's, before this function runs: the interpreter's own start (its ``site`` module, with an
    editable install's ``.pth`` finder: tens of ms), then the console script's own lines (the import of
    this package, pip's ``re.sub`` on ``argv[0]``: a few ms), where Python prints its own traceback or the
    process ends by the signal.
    """
    try:
        sys.unraisablehook = hold = _HeldInterrupt()
        try:
            from .cli import main
        finally:
            sys.unraisablehook = sys.__unraisablehook__
        if hold.held:
            raise KeyboardInterrupt
        return main(argv)
    except KeyboardInterrupt:
        print("fashion: interrupted", file=sys.stderr)
        return 130  # 128 + SIGINT, as main's own


class _HeldInterrupt:
    """``sys.unraisablehook`` while the CLI loads: a Ctrl-C that lands in a callback Python cannot raise from
    (importlib's module-lock weakref callback) would print "Exception ignored in ... KeyboardInterrupt" with a
    traceback and be lost; it is held, and raised again once the import is done. Anything else: Python's hook."""

    def __init__(self) -> None:
        self.held = False

    def __call__(self, unraisable) -> None:
        if issubclass(unraisable.exc_type, KeyboardInterrupt):
            self.held = True
        else:
            sys.__unraisablehook__(unraisable)
