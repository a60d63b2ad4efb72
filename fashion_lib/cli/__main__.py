"""``python -m fashion_lib.cli`` is the ``fashion`` command. ``fashion`` and ``python -m fashion_lib``
(:mod:`fashion_lib.entry`) take Ctrl-C sooner: here this package's modules load first."""

from .main import main

raise SystemExit(main())
