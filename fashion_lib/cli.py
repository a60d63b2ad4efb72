"""``fashion``: a thin argparse layer over the library.

User mistakes print one line (``fashion: error: ...``) and exit 2 (data that fails
validation exits 1, integrity failures 3); no tracebacks. Heavy modules (TensorFlow,
quilt3) are imported inside the commands, so ``--help`` answers at once.
"""

from __future__ import annotations

import argparse
import sys
from typing import Callable, Sequence

from . import __version__
from .errors import FashionError

Handler = Callable[[argparse.Namespace], int | None]


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line and exit code 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def _registry_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--registry", metavar="DIR|s3://BUCKET",
                        help="registry (default: $FASHION_REGISTRY or the embedded local registry)")


def _add(sub: argparse._SubParsersAction, name: str, handler: Handler, help: str, *,
         registry: bool = True) -> argparse.ArgumentParser:
    parser = sub.add_parser(name, help=help, description=help)
    parser.set_defaults(handler=handler)
    if registry:
        _registry_option(parser)
    return parser


# --- data -------------------------------------------------------------------

def cmd_data_prepare(args: argparse.Namespace) -> None:
    from .data import prepare_data

    done = prepare_data(registry=args.registry, name=args.name, source_dir=args.source)
    print(f"Published {done.name} to {done.registry}")
    print(f"top hash: {done.top_hash}")


def cmd_data_validate(args: argparse.Namespace) -> int:
    from .errors import DataValidationError
    from .validate import validate_csv

    failed = 0
    for path in args.files:
        try:
            print(validate_csv(path, args.rows).summary())
        except DataValidationError as exc:
            print(f"fashion: error: {exc}", file=sys.stderr)
            failed += 1
    return DataValidationError.exit_code if failed else 0


def cmd_data_push(args: argparse.Namespace) -> None:
    from pathlib import Path

    from .data import publish_csvs

    done = publish_csvs({"train": Path(args.train), "test": Path(args.test)}, registry=args.registry,
                        name=args.name, message=args.message)
    print(f"top hash: {done.top_hash}")


def cmd_data_fetch(args: argparse.Namespace) -> None:
    from pathlib import Path

    from .data import fetch_data

    fetched = fetch_data(registry=args.registry, name=args.name, top_hash=args.top_hash, dest=Path(args.dest))
    for key, path in sorted(fetched.files.items()):
        print(f"{path}")
    print(f"top hash: {fetched.top_hash} (all files verified)")


def cmd_packages_list(args: argparse.Namespace) -> None:
    from .registry import describe, list_versions

    versions = list_versions(registry=args.registry, name=args.name)
    print(f"{describe(args.registry)}: {len(versions)} version(s)")
    for v in versions:
        created = v.created.strftime("%Y-%m-%d %H:%M:%S") if v.created else "-"
        print(f"{v.name:<24} {v.top_hash[:12]}  {created}  {v.message or ''}".rstrip())


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="fashion", description="Fashion-MNIST as {code, environment, data}: "
                     "versioned data packages, a retrainable CNN, and its lineage.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    top = parser.add_subparsers(title="commands", metavar="COMMAND", parser_class=_Parser)

    data = top.add_parser("data", help="get, validate, publish and fetch the data package")
    data_sub = data.add_subparsers(title="data commands", metavar="COMMAND", parser_class=_Parser)
    p = _add(data_sub, "prepare", cmd_data_prepare, "get the raw files, write and validate the CSVs, publish them")
    p.add_argument("--source", metavar="DIR", help="folder with the four IDX files (default: $FASHION_RAW_DIR, "
                   "a local copy, Debian's dataset-fashion-mnist, or a download)")
    p.add_argument("--name", help="package name (default: fashion-mnist/data)")
    p = _add(data_sub, "validate", cmd_data_validate, "run the validation circuit breaker on CSV files",
             registry=False)
    p.add_argument("files", nargs="+", metavar="FILE")
    p.add_argument("--rows", type=int, help="expected row count (default: known for the official file names)")
    p = _add(data_sub, "push", cmd_data_push, "validate two CSVs and publish them as a data package")
    p.add_argument("--train", required=True, metavar="CSV")
    p.add_argument("--test", required=True, metavar="CSV")
    p.add_argument("--name", help="package name (default: fashion-mnist/data)")
    p.add_argument("--message", "-m", help="version message")
    p = _add(data_sub, "fetch", cmd_data_fetch, "fetch and verify a data package into a folder")
    p.add_argument("--dest", required=True, metavar="DIR")
    p.add_argument("--name", help="package name (default: fashion-mnist/data)")
    p.add_argument("--top-hash", help="version (a unique prefix will do; default: latest)")

    pk = top.add_parser("packages", help="list packages in a registry")
    pk_sub = pk.add_subparsers(title="packages commands", metavar="COMMAND", parser_class=_Parser)
    p = _add(pk_sub, "list", cmd_packages_list, "list package names, versions, top hashes and dates")
    p.add_argument("--name", help="only this package")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Handler | None = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return 2
    try:
        return int(handler(args) or 0)
    except FashionError as exc:
        print(f"fashion: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("fashion: interrupted", file=sys.stderr)
        return 130
