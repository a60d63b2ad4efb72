"""``fashion data ...``: prepare, validate, push, check and fetch the data package."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from .common import (
    CSV_FILE,
    DATA_DEFAULT,
    MESSAGE,
    REASON,
    TOP_HASH,
    add,
    file_path,
    folder_path,
    group,
    not_blank,
    positive_int,
    print_fetched,
)
from .names import DATA_PACKAGE, DATA_PACKAGE_READ

if TYPE_CHECKING:
    from ..data import PreparedData


def _print_published(done: PreparedData) -> None:
    """``Published`` when the push added a version; else the data already was that version, repaired
    (damaged files written again) or already whole."""
    from ..console import short
    from ..registry import repaired_line

    label = f"{done.name}@{short(done.top_hash)}"
    if done.added:
        print(f"Published {label} to {done.registry}")
    elif done.repaired:
        print(repaired_line(label, done.repaired, done.registry))
    else:
        print(f"Already published: {label} in {done.registry}")
    print(f"top hash: {done.top_hash}")


def cmd_data_prepare(args: argparse.Namespace) -> None:
    from ..data import prepare_data

    done = prepare_data(
        registry=args.registry,
        name=args.data_package,
        source_dir=args.source,
        accept=args.accept,
        reference=args.reference,
    )
    _print_published(done)


def _input_csv(path: str) -> Path:
    """``path`` if it is a regular file; else ConfigError (exit 2) naming it: a missing file, a folder or
    a FIFO is a mistake about an input file, not data that failed validation (exit 1)."""
    from ..errors import ConfigError
    from ..fsutil import regular_file

    return regular_file(Path(path), "a Fashion-MNIST CSV", error=ConfigError)


def cmd_data_validate(args: argparse.Namespace) -> int:
    """Each file in turn; exit 2 if a file could not be read as one, else 1 if one failed validation."""
    from ..errors import ConfigError, DataValidationError
    from ..validate import validate_csv

    failed: set[int] = set()
    for path in args.files:
        try:
            print(validate_csv(_input_csv(path), args.rows).summary())
        except (ConfigError, DataValidationError) as exc:
            print(f"fashion: error: {exc}", file=sys.stderr)
            failed.add(exc.exit_code)
    return max(failed, default=0)


def cmd_data_push(args: argparse.Namespace) -> None:
    from ..data import publish_csvs

    done = publish_csvs(
        {"train": _input_csv(args.train), "test": _input_csv(args.test)},
        registry=args.registry,
        name=args.data_package,
        message=args.message,
        accept=args.accept,
        reference=args.reference,
    )
    _print_published(done)


def cmd_data_check(args: argparse.Namespace) -> None:
    from ..data import check_data

    for path in (args.train, args.test) if args.train and args.test else ():  # one alone: check_data says so
        _input_csv(path)
    check_data(
        train=args.train,
        test=args.test,
        top_hash=args.top_hash,
        name=args.data_package,
        registry=args.registry,
        reference=args.reference,
        json_path=args.json,
    )  # "-": the report as JSON on stdout


def cmd_data_fetch(args: argparse.Namespace) -> None:
    from ..data import fetch_data

    fetched = fetch_data(
        registry=args.registry,
        name=args.data_package,
        top_hash=args.top_hash,
        dest=Path(args.dest),
        overwrite=args.overwrite,
    )
    print_fetched(fetched)


def data_package_option(parser: argparse.ArgumentParser, kind: Callable[[str], str]) -> None:
    """``--data-package NAME``, as every command spells it; ``--name``, the data commands' first
    spelling, still works (hidden from --help; each names itself in an error)."""
    parser.add_argument("--data-package", type=kind, help=f"data package name {DATA_DEFAULT} (or --name)")
    parser.add_argument("--name", dest="data_package", type=kind, help=argparse.SUPPRESS)


DEST_HELP = "folder to fetch the version's files into (made if missing)"


def overwrite_option(parser: argparse.ArgumentParser) -> None:
    """``--overwrite`` for the fetch commands: without it, a file in --dest that differs is refused."""
    parser.add_argument(
        "--overwrite",
        action="store_true",
        help="replace files in --dest that differ from the version's (default: refuse, naming them)",
    )


def _quality_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--reference",
        type=TOP_HASH,
        metavar="TOP_HASH",
        help="data version the quality check compares with "
        "(default: the latest that passed without --accept, else the official profile)",
    )
    parser.add_argument(
        "--accept",
        type=REASON,
        metavar="REASON",
        help="publish even if data-quality checks fail; the reason and the report are stored with the version",
    )


def _add_check(sub: argparse._SubParsersAction) -> None:
    p = add(
        sub,
        "check",
        cmd_data_check,
        "the data-quality circuit breaker: compare data with a reference "
        "version (leakage, duplicates, balance, drift, degenerate images, label sanity)",
    )
    p.add_argument(
        "--train", type=CSV_FILE, metavar="CSV", help="training CSV (with --test; default: a published version)"
    )
    p.add_argument("--test", type=CSV_FILE, metavar="CSV", help="test CSV (with --train)")
    p.add_argument("--top-hash", type=TOP_HASH, help="check this published version (default: the latest)")
    data_package_option(p, DATA_PACKAGE_READ)
    p.add_argument(
        "--reference",
        type=TOP_HASH,
        metavar="TOP_HASH",
        help="compare with this version (default: the latest that "
        "passed without --accept, else the official Fashion-MNIST profile)",
    )
    p.add_argument(
        "--json",
        nargs="?",
        const="-",
        type=file_path,
        metavar="FILE",
        help="the report as one JSON document on stdout "
        "instead of the table (for scripts); with FILE: the table, and the JSON written to FILE",
    )


def add_commands(top: argparse._SubParsersAction) -> None:
    """``fashion data prepare | validate | push | check | fetch``."""
    sub = group(top, "data", "get, validate, publish and fetch the data package")
    p = add(sub, "prepare", cmd_data_prepare, "get the raw files, write and validate the CSVs, publish them")
    p.add_argument(
        "--source",
        type=not_blank("a folder with the four IDX files (leave --source out for the default)"),
        metavar="DIR",
        help="folder with the four IDX files (default: $FASHION_RAW_DIR, "
        "a local copy, Debian's dataset-fashion-mnist, or a download)",
    )
    data_package_option(p, DATA_PACKAGE)
    _quality_options(p)
    p = add(sub, "validate", cmd_data_validate, "run the validation circuit breaker on CSV files", registry=False)
    p.add_argument("files", nargs="+", type=CSV_FILE, metavar="FILE")
    p.add_argument(
        "--rows",
        type=positive_int,
        metavar="N",
        help="expected row count (default: the count recorded beside a fetched package's CSV, or the "
        "official one for a conversion of the upstream files; else no check)",
    )
    p = add(sub, "push", cmd_data_push, "validate two CSVs and publish them as a data package")
    p.add_argument("--train", required=True, type=CSV_FILE, metavar="CSV", help="training CSV (label,pixel1..pixel784)")
    p.add_argument("--test", required=True, type=CSV_FILE, metavar="CSV", help="test CSV (the same header)")
    data_package_option(p, DATA_PACKAGE)
    p.add_argument("--message", "-m", type=MESSAGE, help="version message")
    _quality_options(p)
    _add_check(sub)
    p = add(sub, "fetch", cmd_data_fetch, "fetch and verify a data package into a folder")
    p.add_argument("--dest", required=True, type=folder_path, metavar="DIR", help=DEST_HELP)
    data_package_option(p, DATA_PACKAGE_READ)
    p.add_argument("--top-hash", type=TOP_HASH, help="version (a unique prefix will do; default: latest)")
    overwrite_option(p)
