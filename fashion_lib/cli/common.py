"""What the command groups share: the parser class, common options, output helpers."""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable

Handler = Callable[[argparse.Namespace], int | None]


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line and exit code 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


# Defaults that come from the environment are named, not computed: --help stays true wherever it runs.
DATA_DEFAULT = "(default: $FASHION_DATA_PACKAGE, else fashion-mnist/data)"
MODEL_DEFAULT = "(default: $FASHION_MODEL_PACKAGE, else fashion-mnist/model)"


def registry_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--registry",
        metavar="DIR|s3://BUCKET",
        help="registry (default: $FASHION_REGISTRY or the embedded local registry)",
    )


def add(
    sub: argparse._SubParsersAction, name: str, handler: Handler, help: str, *, registry: bool = True
) -> argparse.ArgumentParser:
    """A subcommand ``name`` that runs ``handler``, with ``--registry`` unless told otherwise."""
    parser = sub.add_parser(name, help=help, description=help)
    parser.set_defaults(handler=handler)
    if registry:
        registry_option(parser)
    return parser


def group(top: argparse._SubParsersAction, name: str, help: str) -> argparse._SubParsersAction:
    """A command group (``fashion data ...``) and the subparsers of its commands."""
    parser = top.add_parser(name, help=help)
    return parser.add_subparsers(title=f"{name} commands", metavar="COMMAND", parser_class=_Parser)


def number_in(low: float, high: float, error: Callable[[str], str]) -> Callable[[str], float]:
    """An argparse ``type``: a finite number from ``low`` to ``high``, else a usage error ``error(text)``."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        if not (low <= value <= high and math.isfinite(value)):
            raise argparse.ArgumentTypeError(error(text))
        return value

    return parse


def json_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--json", action="store_true", help="one JSON document on stdout (for scripts; same exit codes)"
    )


def print_json(document) -> None:
    import json

    print(json.dumps(document, indent=2, sort_keys=True, default=str))


def print_fetched(fetched) -> None:
    for path in sorted(fetched.files.values()):
        print(path)
    print(f"top hash: {fetched.top_hash} (all files verified)")
