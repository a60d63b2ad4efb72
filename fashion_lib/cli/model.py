"""``fashion evaluate``, ``fashion model push | fetch``, ``fashion predict``, ``fashion lineage``."""

from __future__ import annotations

import argparse

from .common import (
    DATA_DEFAULT,
    MODEL_DEFAULT,
    MODEL_FILE,
    TOP_HASH,
    add,
    excludes,
    folder_path,
    group,
    json_option,
    not_blank,
    print_fetched,
    print_json,
)
from .data import DEST_HELP, overwrite_option
from .names import DATA_PACKAGE_READ, MODEL_PACKAGE, MODEL_PACKAGE_READ


def cmd_evaluate(args: argparse.Namespace) -> None:
    from ..pipeline import evaluate_model, report

    result = evaluate_model(
        model_file=args.model,
        model_package=args.model_package,
        top_hash=args.top_hash,
        data_package=args.data_package,
        data_top_hash=args.data_top_hash,
        registry=args.registry,
        tta=args.tta,
    )
    print(report(result))


def cmd_model_push(args: argparse.Namespace) -> None:
    from ..pipeline import push_run_folder

    print(f"model top hash: {push_run_folder(args.output_dir, registry=args.registry, name=args.model_package)}")


def cmd_model_fetch(args: argparse.Namespace) -> None:
    from pathlib import Path

    from ..model_package import fetch_model

    print_fetched(
        fetch_model(
            name=args.model_package,
            top_hash=args.top_hash,
            registry=args.registry,
            dest=Path(args.dest),
            overwrite=args.overwrite,
        )
    )


def cmd_predict(args: argparse.Namespace) -> None:
    from ..model_package import classify_files

    found = classify_files(
        args.inputs, model_file=args.model, name=args.model_package, top_hash=args.top_hash, registry=args.registry
    )
    for source, p in found:
        print(f"{source}\t{p.class_id}\t{p.class_name}\t{p.confidence:.3f}")


def cmd_lineage(args: argparse.Namespace) -> None:
    from ..lineage import describe
    from ..model_package import read_lineage

    name, top_hash, meta = read_lineage(args.top_hash, name=args.model_package, registry=args.registry, require=True)
    if args.json:
        print_json({"name": name, "top_hash": top_hash, "lineage": meta})
        return
    print(describe(name, top_hash, meta))


def _model_source(parser: argparse.ArgumentParser, *, registry_too: bool) -> None:
    """``--model FILE`` or a model package (``--model-package``, ``--top-hash``), never both: a file given
    with a version would silently win. ``registry_too``: the registry serves only the model, so
    ``--registry`` is refused with a file as well (evaluate still reads its data package there)."""
    others = ("--top-hash", "--model-package", *(("--registry",) if registry_too else ()))
    parser.add_argument(
        "--model",
        type=MODEL_FILE,
        metavar="FILE",
        help=f"a .keras/.h5 file instead of the model package (not with {_or(others)})",
    )
    parser.add_argument("--model-package", type=MODEL_PACKAGE_READ, help=f"model package name {MODEL_DEFAULT}")
    parser.add_argument("--top-hash", type=TOP_HASH, help="model version (default: latest)")
    excludes(parser, "--model", others, "--model FILE uses that file, not a model package from a registry")


def _or(options: tuple[str, ...]) -> str:
    """``("--a", "--b", "--c")`` -> ``"--a, --b or --c"``."""
    return f"{', '.join(options[:-1])} or {options[-1]}"


def _add_evaluate(top: argparse._SubParsersAction) -> None:
    p = add(top, "evaluate", cmd_evaluate, "evaluate a model on the test set of a data package")
    _model_source(p, registry_too=False)
    p.add_argument("--data-package", type=DATA_PACKAGE_READ, help=f"data package name {DATA_DEFAULT}")
    p.add_argument("--data-top-hash", type=TOP_HASH, help="data version (default: latest)")
    p.add_argument(
        "--tta",
        action="store_true",
        help="also average each image with its mirror in code (for models saved without built-in test-time views)",
    )
    p.add_argument("--no-tta", action="store_true", help=argparse.SUPPRESS)  # the old flag: now the default


def add_commands(top: argparse._SubParsersAction) -> None:
    """``fashion evaluate``, ``fashion model push | fetch``, ``fashion predict``, ``fashion lineage``."""
    _add_evaluate(top)
    sub = group(top, "model", "publish and fetch model packages")
    p = add(sub, "push", cmd_model_push, "publish a finished training run's folder as a model package")
    p.add_argument("output_dir", type=not_blank("the folder of a finished training run"), metavar="RUN_DIR")
    p.add_argument("--model-package", type=MODEL_PACKAGE, help=f"model package name {MODEL_DEFAULT}")
    p = add(sub, "fetch", cmd_model_fetch, "fetch and verify a model package into a folder")
    p.add_argument("--dest", required=True, type=folder_path, metavar="DIR", help=DEST_HELP)
    p.add_argument("--model-package", type=MODEL_PACKAGE_READ, help=f"model package name {MODEL_DEFAULT}")
    p.add_argument("--top-hash", type=TOP_HASH, help="version (default: latest)")
    overwrite_option(p)
    p = add(
        top,
        "predict",
        cmd_predict,
        "classify 28x28 images (PNG files, or CSVs in the data layout, the label column optional)",
    )
    p.add_argument("inputs", nargs="+", type=not_blank("a PNG image or a CSV file"), metavar="IMAGE.png|FILE.csv")
    _model_source(p, registry_too=True)
    p = add(top, "lineage", cmd_lineage, "where a model came from: data version, code, environment, config")
    p.add_argument("top_hash", nargs="?", type=TOP_HASH, metavar="TOPHASH", help="model version (default: latest)")
    json_option(p)
    p.add_argument("--model-package", type=MODEL_PACKAGE_READ, help=f"model package name {MODEL_DEFAULT}")
