"""``python -m fashion_lib.cli`` is the ``fashion`` command."""

from . import main

raise SystemExit(main())
