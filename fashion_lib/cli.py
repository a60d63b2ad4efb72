"""``fashion``: a thin argparse layer over the library.

User mistakes print one line (``fashion: error: ...``) with the exit code of the README's
table (:mod:`fashion_lib.errors`); anything unforeseen prints one line too and exits 70
(``FASHION_DEBUG=1`` shows the traceback). The registry is resolved once, in :func:`main`. Heavy modules (TensorFlow,
quilt3) are imported inside the commands, so ``--help`` answers at once.
"""

from __future__ import annotations

import argparse
import errno
import os
import sys
from collections.abc import Callable, Sequence

from . import __version__
from .console import short
from .errors import ConfigError, FashionError

Handler = Callable[[argparse.Namespace], int | None]


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line and exit code 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


# Defaults that come from the environment are named, not computed: --help stays true wherever it runs.
_DATA_DEFAULT = "(default: $FASHION_DATA_PACKAGE, else fashion-mnist/data)"
_MODEL_DEFAULT = "(default: $FASHION_MODEL_PACKAGE, else fashion-mnist/model)"


def _registry_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--registry",
        metavar="DIR|s3://BUCKET",
        help="registry (default: $FASHION_REGISTRY or the embedded local registry)",
    )


def _add(
    sub: argparse._SubParsersAction, name: str, handler: Handler, help: str, *, registry: bool = True
) -> argparse.ArgumentParser:
    parser = sub.add_parser(name, help=help, description=help)
    parser.set_defaults(handler=handler)
    if registry:
        _registry_option(parser)
    return parser


# --- data -------------------------------------------------------------------


def cmd_data_prepare(args: argparse.Namespace) -> None:
    from .data import prepare_data

    done = prepare_data(
        registry=args.registry, name=args.name, source_dir=args.source, accept=args.accept, reference=args.reference
    )
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

    done = publish_csvs(
        {"train": Path(args.train), "test": Path(args.test)},
        registry=args.registry,
        name=args.name,
        message=args.message,
        accept=args.accept,
        reference=args.reference,
    )
    print(f"top hash: {done.top_hash}")


def cmd_data_check(args: argparse.Namespace) -> None:
    from .data import check_data

    if bool(args.train) != bool(args.test) or (args.train and args.top_hash):
        raise ConfigError("give --train CSV and --test CSV, or --top-hash VERSION (default: the latest version)")
    check_data(
        train=args.train,
        test=args.test,
        top_hash=args.top_hash,
        name=args.name,
        registry=args.registry,
        reference=args.reference,
        json_path=args.json,
    )  # "-": the report as JSON on stdout


def cmd_data_fetch(args: argparse.Namespace) -> None:
    from pathlib import Path

    from .data import fetch_data

    _print_fetched(fetch_data(registry=args.registry, name=args.name, top_hash=args.top_hash, dest=Path(args.dest)))


def _print_fetched(fetched) -> None:
    for path in sorted(fetched.files.values()):
        print(path)
    print(f"top hash: {fetched.top_hash} (all files verified)")


def _print_json(document) -> None:
    import json

    print(json.dumps(document, indent=2, sort_keys=True, default=str))


def cmd_packages_list(args: argparse.Namespace) -> int:
    from .errors import IntegrityError

    versions = args.registry.list_versions(args.name)
    damaged = [v for v in versions if v.damaged]
    if args.json:
        _print_json(
            {
                "registry": args.registry.describe(),
                "versions": [
                    {
                        "name": v.name,
                        "top_hash": v.top_hash,
                        "created": v.created.isoformat() if v.created else None,
                        "message": v.message,
                        "damaged": v.damaged,
                    }
                    for v in versions
                ],
            }
        )
        return IntegrityError.exit_code if damaged else 0
    print(
        f"{args.registry.describe()}: {len(versions)} version(s)"
        + (f", {len(damaged)} damaged ('fashion packages verify' for details)" if damaged else "")
    )
    for v in versions:
        created = v.created.strftime("%Y-%m-%d %H:%M:%S") if v.created else "-"
        note = "DAMAGED (see below)" if v.damaged else v.message or ""
        print(f"{v.name:<24} {short(v.top_hash)}  {created}  {note}".rstrip())
    for v in damaged:
        print(f"fashion: damaged: {v.damaged}", file=sys.stderr)
    return IntegrityError.exit_code if damaged else 0


def cmd_packages_verify(args: argparse.Namespace) -> int:
    from dataclasses import asdict

    from .errors import IntegrityError
    from .registry import verify

    if args.top_hash and not args.name:
        raise ConfigError("--top-hash needs --name: which package is the version of?")
    report = verify(
        registry=args.registry,
        name=args.name,
        top_hash=args.top_hash,
        repair=args.repair,
        progress=lambda label: print(f"checking {label} ...", file=sys.stderr, flush=True),
    )
    if args.json:
        _print_json({"registry": args.registry.describe(), "ok": not report.problems, **asdict(report)})
        return IntegrityError.exit_code if report.problems else 0
    for line in report.repaired:
        print(line)
    for line in report.problems:
        print(f"fashion: damaged: {line}", file=sys.stderr)
    print(f"{args.registry.describe()}: {report.summary()}")
    return IntegrityError.exit_code if report.problems else 0


# --- model ------------------------------------------------------------------


def _config(args: argparse.Namespace):
    from .pipeline import config_from_parameters

    return config_from_parameters(
        args.preset,
        assignments=args.set or (),
        epochs=args.epochs,
        batch_size=args.batch_size,
        learning_rate=args.learning_rate,
        seed=args.seed,
        limit=args.limit,
    )


def _run(args: argparse.Namespace, *, force: bool, push: bool) -> None:
    from .pipeline import UpToDate, run

    done = run(
        _config(args),
        force=force,
        push=push,
        registry=args.registry,
        data_package=args.data_package,
        data_top_hash=args.data_top_hash,
        model_package=args.model_package,
        output_dir=args.output_dir,
    )
    if isinstance(done, UpToDate):
        print(f"test accuracy: {done.test_accuracy:.4f}")
        print(f"data top hash: {done.data_top_hash}")
        print(f"model top hash: {done.model_top_hash}")
        return
    if not done.chief:
        return
    print(f"test accuracy: {done.evaluation.accuracy:.4f}")
    print(f"outputs: {done.output_dir}")
    print(f"data top hash: {done.data.top_hash}")
    if done.model_top_hash:
        print(f"model top hash: {done.model_top_hash}")


def cmd_run(args: argparse.Namespace) -> None:
    _run(args, force=args.force, push=True)


def cmd_train(args: argparse.Namespace) -> None:
    _run(args, force=True, push=args.push)


def cmd_evaluate(args: argparse.Namespace) -> None:
    from .data import load_data
    from .evaluate import evaluate
    from .model import load_model_file
    from .model_package import load_model
    from .pipeline import report

    model = (
        load_model_file(args.model)
        if args.model
        else load_model(args.model_package, args.top_hash, registry=args.registry)
    )
    data = load_data(registry=args.registry, name=args.data_package, top_hash=args.data_top_hash, bootstrap=True)
    result = evaluate(model, data.test, tta=args.tta)  # shipped models average their views inside
    print(report(result))


def cmd_model_push(args: argparse.Namespace) -> None:
    from .pipeline import push_run_folder

    print(f"model top hash: {push_run_folder(args.output_dir, registry=args.registry, name=args.model_package)}")


def cmd_model_fetch(args: argparse.Namespace) -> None:
    from pathlib import Path

    from .model_package import fetch_model

    _print_fetched(
        fetch_model(name=args.model_package, top_hash=args.top_hash, registry=args.registry, dest=Path(args.dest))
    )


def cmd_predict(args: argparse.Namespace) -> None:
    from .inputs import load_images
    from .model import load_model_file
    from .model_package import load_model
    from .predict import predict

    images = load_images(args.inputs)
    model = (
        load_model_file(args.model)
        if args.model
        else load_model(args.model_package, args.top_hash, registry=args.registry)
    )
    for source, p in zip(images.sources, predict(model, images.images)):
        print(f"{source}\t{p.class_id}\t{p.class_name}\t{p.confidence:.3f}")


def cmd_lineage(args: argparse.Namespace) -> None:
    from .lineage import describe
    from .model_package import read_lineage

    name, top_hash, meta = read_lineage(args.top_hash, name=args.model_package, registry=args.registry, require=True)
    if args.json:
        _print_json({"name": name, "top_hash": top_hash, "lineage": meta})
        return
    print(describe(name, top_hash, meta))


def cmd_reproduce(args: argparse.Namespace) -> int:
    from .pipeline import reproduce

    outcome, run = reproduce(
        args.top_hash,
        registry=args.registry,
        model_package=args.model_package,
        output_dir=args.output_dir,
        push=args.push,
    )
    print(outcome.report())
    if run.model_top_hash:
        print(f"model top hash: {run.model_top_hash}")
    return 0 if outcome.within_tolerance else 1


def _json_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--json", action="store_true", help="one JSON document on stdout (for scripts; same exit codes)"
    )


def _quality_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--reference",
        metavar="TOP_HASH",
        help="data version the quality check compares with "
        "(default: the latest that passed without --accept, else the official profile)",
    )
    parser.add_argument(
        "--accept",
        metavar="REASON",
        help="publish even if data-quality checks fail; the reason and the report are stored with the version",
    )


def _training_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--preset", default="default", help="quick | default | v1 (the previous default) (default: default)"
    )
    parser.add_argument("--epochs", type=int)
    parser.add_argument("--batch-size", type=int)
    parser.add_argument("--learning-rate", type=float)
    parser.add_argument("--seed", type=int)
    parser.add_argument("--limit", type=int, help="train on a subset of this many images (0: all)")
    parser.add_argument("--set", action="append", metavar="KEY=VALUE", help="any other config field")
    parser.add_argument(
        "--output-dir",
        help="where clf.keras, history and metrics go "
        "(default: run-TIME in $FASHION_OUTPUT_DIR, else in the home folder's outputs/)",
    )
    parser.add_argument("--data-package", help=f"data package name {_DATA_DEFAULT}")
    parser.add_argument("--data-top-hash", help="data version (default: latest)")
    parser.add_argument("--model-package", help=f"model package name {_MODEL_DEFAULT}")


def _model_source(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", metavar="FILE", help="a .keras/.h5 file (default: the model package)")
    parser.add_argument("--model-package", help=f"model package name {_MODEL_DEFAULT}")
    parser.add_argument("--top-hash", help="model version (default: latest)")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="fashion",
        description="Fashion-MNIST as {code, environment, data}: "
        "versioned data packages, a retrainable CNN, and its lineage.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    top = parser.add_subparsers(title="commands", metavar="COMMAND", parser_class=_Parser)

    data = top.add_parser("data", help="get, validate, publish and fetch the data package")
    data_sub = data.add_subparsers(title="data commands", metavar="COMMAND", parser_class=_Parser)
    p = _add(data_sub, "prepare", cmd_data_prepare, "get the raw files, write and validate the CSVs, publish them")
    p.add_argument(
        "--source",
        metavar="DIR",
        help="folder with the four IDX files (default: $FASHION_RAW_DIR, "
        "a local copy, Debian's dataset-fashion-mnist, or a download)",
    )
    p.add_argument("--name", help=f"package name {_DATA_DEFAULT}")
    _quality_options(p)
    p = _add(data_sub, "validate", cmd_data_validate, "run the validation circuit breaker on CSV files", registry=False)
    p.add_argument("files", nargs="+", metavar="FILE")
    p.add_argument("--rows", type=int, help="expected row count (default: known for the official file names)")
    p = _add(data_sub, "push", cmd_data_push, "validate two CSVs and publish them as a data package")
    p.add_argument("--train", required=True, metavar="CSV")
    p.add_argument("--test", required=True, metavar="CSV")
    p.add_argument("--name", help=f"package name {_DATA_DEFAULT}")
    p.add_argument("--message", "-m", help="version message")
    _quality_options(p)
    p = _add(
        data_sub,
        "check",
        cmd_data_check,
        "the data-quality circuit breaker: compare data with a reference "
        "version (leakage, duplicates, balance, drift, degenerate images, label sanity)",
    )
    p.add_argument("--train", metavar="CSV", help="training CSV (with --test; default: a published version)")
    p.add_argument("--test", metavar="CSV")
    p.add_argument("--top-hash", help="check this published version (default: the latest)")
    p.add_argument("--name", help=f"package name {_DATA_DEFAULT}")
    p.add_argument(
        "--reference",
        metavar="TOP_HASH",
        help="compare with this version (default: the latest that "
        "passed without --accept, else the official Fashion-MNIST profile)",
    )
    p.add_argument(
        "--json",
        nargs="?",
        const="-",
        metavar="FILE",
        help="the report as one JSON document on stdout "
        "instead of the table (for scripts); with FILE: the table, and the JSON written to FILE",
    )
    p = _add(data_sub, "fetch", cmd_data_fetch, "fetch and verify a data package into a folder")
    p.add_argument("--dest", required=True, metavar="DIR")
    p.add_argument("--name", help=f"package name {_DATA_DEFAULT}")
    p.add_argument("--top-hash", help="version (a unique prefix will do; default: latest)")

    pk = top.add_parser("packages", help="list packages in a registry")
    pk_sub = pk.add_subparsers(title="packages commands", metavar="COMMAND", parser_class=_Parser)
    p = _add(pk_sub, "list", cmd_packages_list, "list package names, versions, top hashes and dates")
    p.add_argument("--name", help="only this package")
    _json_option(p)
    p = _add(
        pk_sub,
        "verify",
        cmd_packages_verify,
        "re-hash every object and check every manifest against its top hash (exit 3 if damaged)",
    )
    p.add_argument("--name", help="only this package")
    p.add_argument("--top-hash", help="only this version (needs --name; a unique prefix will do)")
    p.add_argument("--repair", action="store_true", help="also remove temporary files left by interrupted writers")
    _json_option(p)

    p = _add(top, "run", cmd_run, "the main job: data package, training, evaluation, model package")
    _training_options(p)
    p.add_argument(
        "--force",
        action="store_true",
        help="train even if the latest model came from this data, config, environment and commit",
    )
    p = _add(top, "train", cmd_train, "train and evaluate (add --push to publish the model package)")
    _training_options(p)
    p.add_argument("--push", action="store_true", help="publish the model package")
    p = _add(top, "evaluate", cmd_evaluate, "evaluate a model on the test set of a data package")
    _model_source(p)
    p.add_argument("--data-package", help=f"data package name {_DATA_DEFAULT}")
    p.add_argument("--data-top-hash", help="data version (default: latest)")
    p.add_argument(
        "--tta",
        action="store_true",
        help="also average each image with its mirror in code (for models saved without built-in test-time views)",
    )
    p.add_argument("--no-tta", action="store_true", help=argparse.SUPPRESS)  # the old flag: now the default

    md = top.add_parser("model", help="publish and fetch model packages")
    md_sub = md.add_subparsers(title="model commands", metavar="COMMAND", parser_class=_Parser)
    p = _add(md_sub, "push", cmd_model_push, "publish a finished training run's folder as a model package")
    p.add_argument("output_dir", metavar="RUN_DIR")
    p.add_argument("--model-package", help=f"model package name {_MODEL_DEFAULT}")
    p = _add(md_sub, "fetch", cmd_model_fetch, "fetch and verify a model package into a folder")
    p.add_argument("--dest", required=True, metavar="DIR")
    p.add_argument("--model-package", help=f"model package name {_MODEL_DEFAULT}")
    p.add_argument("--top-hash", help="version (default: latest)")

    p = _add(top, "predict", cmd_predict, "classify 28x28 images (PNG files, or a CSV in the data layout)")
    p.add_argument("inputs", nargs="+", metavar="IMAGE.png|FILE.csv")
    _model_source(p)
    p = _add(top, "lineage", cmd_lineage, "where a model came from: data version, code, environment, config")
    p.add_argument("top_hash", nargs="?", metavar="TOPHASH", help="model version (default: latest)")
    _json_option(p)
    p.add_argument("--model-package", help=f"model package name {_MODEL_DEFAULT}")
    p = _add(top, "reproduce", cmd_reproduce, "retrain from a model's recorded data version and config")
    p.add_argument("top_hash", metavar="TOPHASH")
    p.add_argument("--model-package", help=f"model package name {_MODEL_DEFAULT}")
    p.add_argument("--output-dir")
    p.add_argument("--push", action="store_true", help="publish the reproduced model too")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Handler | None = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return 2
    try:
        if hasattr(args, "registry"):
            from . import registry

            args.registry = registry.open(args.registry)  # resolved once, passed to everything
        return int(handler(args) or 0)
    except FashionError as exc:
        print(f"fashion: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("fashion: interrupted", file=sys.stderr)
        return 130
    except OSError as exc:  # a file or folder we were told to use, or the home folder
        _debug()
        print(f"fashion: error: {_os_error(exc)}", file=sys.stderr)
        return 2
    except Exception as exc:  # noqa: BLE001 - the last resort: one line, never a traceback
        _debug()
        text = " ".join(str(exc).split())[:300]
        print(
            f"fashion: internal error: {exc.__class__.__name__}: {text} (a bug; FASHION_DEBUG=1 shows the traceback)",
            file=sys.stderr,
        )
        return INTERNAL_ERROR


INTERNAL_ERROR = 70  # EX_SOFTWARE


def _debug() -> None:
    if os.environ.get("FASHION_DEBUG", "").strip() not in ("", "0"):
        import traceback

        traceback.print_exc()


def _os_error(exc: OSError) -> str:
    """An OSError in words, naming the file and, when it is there, the home folder it is in."""
    from pathlib import Path

    from .settings import display_path, home

    name = exc.filename or ""
    why = "the disk is full" if exc.errno in (errno.ENOSPC, errno.EDQUOT) else (exc.strerror or str(exc))
    where = ""
    if name:
        try:
            Path(os.path.abspath(name)).relative_to(Path(home()).absolute())
            where = f" (in the home folder {display_path(home())}; set FASHION_HOME to a writable folder)"
        except ValueError:
            pass
    return f"cannot use {name or 'a file'}: {why}{where}"
