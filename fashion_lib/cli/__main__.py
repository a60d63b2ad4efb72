"""``python -m fashion_lib.cli`` is the ``fashion`` command (this package's modules load before
:func:`fashion_lib.command` can take Ctrl-C: ``fashion`` and ``python -m fashion_lib`` start sooner)."""

from .. import command

raise SystemExit(command())
