"""``python -m fashion_lib`` is the ``fashion`` command (:func:`fashion_lib.entry.command`: Ctrl-C while it loads is one line)."""

from .entry import command

raise SystemExit(command())
