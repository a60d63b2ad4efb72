"""The ``fashion`` parser: the top level, then each command group adds its commands."""

from __future__ import annotations

import argparse

from .. import __version__
from . import data, model, packages, training
from .common import _Parser


def build_parser() -> argparse.ArgumentParser:
    """The whole command line; the handlers are looked up now, so they can be replaced in tests."""
    parser = _Parser(
        prog="fashion",
        description="Fashion-MNIST as {code, environment, data}: "
        "versioned data packages, a retrainable CNN, and its lineage.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    top = parser.add_subparsers(title="commands", metavar="COMMAND", parser_class=_Parser)
    data.add_commands(top)
    packages.add_commands(top)
    training.add_run_commands(top)
    model.add_commands(top)
    training.add_reproduce(top)
    return parser
