"""``python -m fashion_lib`` is the ``fashion`` command."""

from .cli import main

raise SystemExit(main())
