"""``python -m fashion_lib`` is the ``fashion`` command (:func:`fashion_lib.command`: Ctrl-C while it loads is one line)."""

from . import command

raise SystemExit(command())
