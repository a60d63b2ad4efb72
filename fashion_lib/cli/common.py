"""What the command groups share: the parser class, common options, output helpers."""

from __future__ import annotations

import argparse
import math
import unicodedata
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..registry import Registry

Handler = Callable[[argparse.Namespace], int | None]


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line and exit code 2, and whose options may rule
    each other out (:func:`excludes`)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.excluded: list[tuple[str, str, str]] = []  # (option, option it rules out, why)

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")

    def parse_known_args(self, args=None, namespace=None):  # type: ignore[override]
        parsed, extras = super().parse_known_args(args, namespace)
        if extras:  # the innermost parser that met them says so: the hint names that command's --help
            self.error(f"unrecognized arguments: {' '.join(extras)}")
        for option, other, why in self.excluded:
            given = (getattr(parsed, self._option_string_actions[o].dest, None) is not None for o in (option, other))
            if all(given):
                self.error(f"argument {other}: not allowed with {option} ({why})")
        return parsed, extras

    def _get_value(self, action: argparse.Action, arg_string: str):  # type: ignore[override]
        """A value's ``type`` that meets an OSError (a path too long to look up) is a usage error
        naming the value, like any other bad value; argparse itself would let it escape."""
        try:
            return super()._get_value(action, arg_string)
        except OSError as exc:
            from ..fsutil import looked_up

            raise argparse.ArgumentError(action, f"{arg_string} {looked_up(exc)}") from None


def excludes(parser: argparse.ArgumentParser, option: str, others: tuple[str, ...], why: str) -> None:
    """Given together with ``option``, each of ``others`` is a usage error naming both, saying ``why``."""
    assert isinstance(parser, _Parser)
    parser.excluded += [(option, other, why) for other in others]


# Defaults that come from the environment are named, not computed: --help stays true wherever it runs.
DATA_DEFAULT = "(default: $FASHION_DATA_PACKAGE, else fashion-mnist/data)"
MODEL_DEFAULT = "(default: $FASHION_MODEL_PACKAGE, else fashion-mnist/model)"


def registry_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--registry",
        type=registry_text,
        metavar="DIR|s3://BUCKET",
        help="registry (default: $FASHION_REGISTRY or the embedded local registry)",
    )


def open_registry(value: str | None) -> Registry:
    """The registry ``--registry`` names, else ``FASHION_REGISTRY``, else the embedded one, its ``named_by``
    saying which named it; a ``FASHION_REGISTRY`` that is no registry is an error naming the variable, not only
    its folder."""
    import os

    from .. import registry
    from ..errors import ConfigError, RegistryError

    from_variable = value is None and bool(os.environ.get("FASHION_REGISTRY", "").strip())
    try:
        opened = registry.open(value)
    except (ConfigError, RegistryError) as exc:
        if (
            not from_variable
            or type(exc) not in (ConfigError, RegistryError)
            or str(exc).startswith(("FASHION_", "AWS_"))
        ):
            raise  # an option, a registry that did answer, or a line that names its variable already
        raise type(exc)(f"FASHION_REGISTRY: {exc}") from None
    opened.named_by = "--registry" if value is not None else "FASHION_REGISTRY" if from_variable else ""
    return opened


def registry_text(text: str) -> str:
    """An argparse ``type`` for ``--registry``: a folder or ``s3://BUCKET``, never blank (an empty
    value given on purpose is a mistake, not a request for the default)."""
    return not_blank("a registry folder or s3://BUCKET (leave --registry out for the default)")(text)


def not_blank(expected: str, *, plain: bool = False) -> Callable[[str], str]:
    """An argparse ``type``: any text but empty or only spaces (an empty value given on purpose is a
    mistake, not a request for the default), else a usage error ``is empty; expected EXPECTED``.

    ``plain``: also refuse what is not UTF-8 and control characters (text that is stored and
    shown later, as a reason or a message); the value itself is never echoed. Paths are not
    ``plain``: a file name may be any bytes but NUL."""

    def parse(text: str) -> str:
        if not text.strip():
            raise argparse.ArgumentTypeError(f"is {'empty' if not text else 'only spaces'}; expected {expected}")
        if plain and any(0xDC80 <= ord(c) <= 0xDCFF for c in text):  # undecodable bytes, as kept in argv
            raise argparse.ArgumentTypeError(f"is not valid UTF-8 text; expected {expected}")  # paths may be so
        if plain and any(unicodedata.category(c) in ("Cc", "Cs") for c in text):
            raise argparse.ArgumentTypeError(
                "holds control characters (escape codes, tabs or line breaks); expected plain text on one line"
            )
        return text

    return parse


TOP_HASH = not_blank("a top hash or a unique prefix of one")
REASON = not_blank("a reason in words, e.g. --accept 'relabelled shirts on purpose'", plain=True)
MESSAGE = not_blank("a version message in words (leave -m out for the default)", plain=True)
CSV_FILE = not_blank("a CSV file")
MODEL_FILE = not_blank("a .keras or .h5 model file (leave --model out for the model package)")


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


def positive_int(text: str) -> int:
    """An argparse ``type``: an integer >= 1, else a usage error naming the value."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1; got {text!r}")
    return value


def folder_path(text: str) -> str:
    """An argparse ``type`` for a folder to write into (``--dest``, ``--output-dir``): not empty,
    not a file, and makeable; else a usage error naming the value (nothing is made here)."""
    return _writable(text, folder=True)


def file_path(text: str) -> str:
    """An argparse ``type`` for a file to write (``--json FILE``; ``-`` is stdout): not empty, not
    a folder, in a folder that is or can be made; else a usage error naming the value."""
    return text if text == "-" else _writable(text, folder=False)


def _writable(text: str, *, folder: bool) -> str:
    from ..fsutil import unusable

    not_blank("a folder" if folder else "a file path")(text)
    why = unusable(text, folder=folder)
    if why:
        raise argparse.ArgumentTypeError(f"{text} {why}")
    return text


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
