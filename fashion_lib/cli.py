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
from .errors import ConfigError, FashionError

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

    _print_fetched(fetch_data(registry=args.registry, name=args.name, top_hash=args.top_hash, dest=Path(args.dest)))


def _print_fetched(fetched) -> None:
    for path in sorted(fetched.files.values()):
        print(path)
    print(f"top hash: {fetched.top_hash} (all files verified)")


def cmd_packages_list(args: argparse.Namespace) -> None:
    from .registry import describe, list_versions

    versions = list_versions(registry=args.registry, name=args.name)
    print(f"{describe(args.registry)}: {len(versions)} version(s)")
    for v in versions:
        created = v.created.strftime("%Y-%m-%d %H:%M:%S") if v.created else "-"
        print(f"{v.name:<24} {v.top_hash[:12]}  {created}  {v.message or ''}".rstrip())



# --- model ------------------------------------------------------------------

def _config(args: argparse.Namespace):
    from .config import TrainConfig

    overrides = {k: v for k, v in (("epochs", args.epochs), ("batch_size", args.batch_size),
                                   ("learning_rate", args.learning_rate), ("seed", args.seed),
                                   ("limit", args.limit)) if v is not None}
    for item in args.set or ():
        key, sep, value = item.partition("=")
        if not sep:
            raise ConfigError(f"--set {item!r}: expected KEY=VALUE, e.g. --set dropout=0.3")
        overrides[key.strip()] = _literal(value)
    return TrainConfig.from_preset(args.preset, **overrides)


def _literal(text: str):
    import ast

    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def _train(args: argparse.Namespace, push: bool) -> None:
    from .pipeline import train_evaluate_publish

    run = train_evaluate_publish(_config(args), registry=args.registry, data_package=args.data_package,
                                 data_top_hash=args.data_top_hash, model_package=args.model_package,
                                 output_dir=args.output_dir, push=push)
    if not run.chief:
        return
    print(f"test accuracy: {run.evaluation.accuracy:.4f}")
    print(f"outputs: {run.output_dir}")
    print(f"data top hash: {run.data.top_hash}")
    if run.model_top_hash:
        print(f"model top hash: {run.model_top_hash}")


def cmd_run(args: argparse.Namespace) -> None:
    from .data import ensure_data_package
    from .pipeline import up_to_date_model

    if not args.force and not args.data_top_hash:
        data_top_hash = ensure_data_package(registry=args.registry, name=args.data_package)
        found = up_to_date_model(_config(args), data_top_hash, registry=args.registry, name=args.model_package)
        if found:
            top_hash, meta = found
            print(f"Up to date: the latest model was trained from this data, config, environment and commit "
                  "(--force retrains)", file=sys.stderr)
            print(f"test accuracy: {meta['metrics']['test_accuracy']:.4f}")
            print(f"data top hash: {data_top_hash}")
            print(f"model top hash: {top_hash}")
            return
        args.data_top_hash = data_top_hash  # train on the version just checked, without resolving it again
    _train(args, push=True)


def cmd_train(args: argparse.Namespace) -> None:
    _train(args, push=args.push)


def cmd_evaluate(args: argparse.Namespace) -> None:
    from .data import load_data
    from .evaluate import evaluate
    from .model import load_model_file
    from .model_package import load_model
    from .pipeline import report

    model = load_model_file(args.model) if args.model else load_model(args.model_package, args.top_hash,
                                                                      registry=args.registry)
    data = load_data(registry=args.registry, name=args.data_package, top_hash=args.data_top_hash, bootstrap=True)
    result = evaluate(model, data.test, tta=args.tta)  # shipped models average their views inside
    print(report(result))


def cmd_model_push(args: argparse.Namespace) -> None:
    import json
    from pathlib import Path

    from .lineage import build_lineage
    from .model_package import CONFIG_FILE, METRICS_FILE, publish_model

    folder = Path(args.output_dir)
    try:
        metrics = json.loads((folder / METRICS_FILE).read_text())
        config = json.loads((folder / CONFIG_FILE).read_text())
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{folder}: expected {METRICS_FILE} and {CONFIG_FILE} from a finished training run "
                          f"({exc.__class__.__name__})") from None
    lineage = build_lineage(data_name=metrics["data_package"], data_top_hash=metrics["data_top_hash"],
                            registry=metrics.get("data_registry", ""), config=config, metrics=metrics,
                            started=metrics.get("started", ""), finished=metrics.get("finished", ""),
                            seconds=metrics.get("train_seconds", 0.0), epochs_run=metrics.get("epochs_run", 0))
    print(f"model top hash: {publish_model(folder, lineage, registry=args.registry, name=args.model_package)}")


def cmd_model_fetch(args: argparse.Namespace) -> None:
    from pathlib import Path

    from .model_package import fetch_model

    _print_fetched(fetch_model(name=args.model_package, top_hash=args.top_hash, registry=args.registry,
                               dest=Path(args.dest)))


def cmd_predict(args: argparse.Namespace) -> None:
    from .model import load_model_file
    from .model_package import load_model
    from .inputs import load_images
    from .predict import predict

    images = load_images(args.inputs)
    model = load_model_file(args.model) if args.model else load_model(args.model_package, args.top_hash,
                                                                      registry=args.registry)
    for source, p in zip(images.sources, predict(model, images.images)):
        print(f"{source}\t{p.class_id}\t{p.class_name}\t{p.confidence:.3f}")


def cmd_lineage(args: argparse.Namespace) -> None:
    from .lineage import describe
    from .model_package import read_lineage

    name, top_hash, meta = read_lineage(args.top_hash, name=args.model_package, registry=args.registry)
    print(describe(name, top_hash, meta))


def cmd_reproduce(args: argparse.Namespace) -> int:
    from .pipeline import reproduce

    outcome, run = reproduce(args.top_hash, registry=args.registry, model_package=args.model_package,
                             output_dir=args.output_dir, push=args.push)
    print(outcome.report())
    if run.model_top_hash:
        print(f"model top hash: {run.model_top_hash}")
    return 0 if outcome.within_tolerance else 1


def _training_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--preset", default="default", help="quick | default | v1 (the previous default) (default: default)")
    parser.add_argument("--epochs", type=int)
    parser.add_argument("--batch-size", type=int)
    parser.add_argument("--learning-rate", type=float)
    parser.add_argument("--seed", type=int)
    parser.add_argument("--limit", type=int, help="train on a subset of this many images (0: all)")
    parser.add_argument("--set", action="append", metavar="KEY=VALUE", help="any other config field")
    parser.add_argument("--output-dir", help="where clf.keras, history and metrics go (default: outputs/run-TIME)")
    parser.add_argument("--data-package", help="data package name (default: fashion-mnist/data)")
    parser.add_argument("--data-top-hash", help="data version (default: latest)")
    parser.add_argument("--model-package", help="model package name (default: fashion-mnist/model)")


def _model_source(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", metavar="FILE", help="a .keras/.h5 file (default: the model package)")
    parser.add_argument("--model-package", help="model package name (default: fashion-mnist/model)")
    parser.add_argument("--top-hash", help="model version (default: latest)")


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

    p = _add(top, "run", cmd_run, "the main job: data package, training, evaluation, model package")
    _training_options(p)
    p.add_argument("--force", action="store_true",
                   help="train even if the latest model came from this data, config, environment and commit")
    p = _add(top, "train", cmd_train, "train and evaluate (add --push to publish the model package)")
    _training_options(p)
    p.add_argument("--push", action="store_true", help="publish the model package")
    p = _add(top, "evaluate", cmd_evaluate, "evaluate a model on the test set of a data package")
    _model_source(p)
    p.add_argument("--data-package", help="data package name (default: fashion-mnist/data)")
    p.add_argument("--data-top-hash", help="data version (default: latest)")
    p.add_argument("--tta", action="store_true",
                   help="also average each image with its mirror in code (for models saved without built-in test-time views)")
    p.add_argument("--no-tta", action="store_true", help=argparse.SUPPRESS)  # the old flag: now the default

    md = top.add_parser("model", help="publish and fetch model packages")
    md_sub = md.add_subparsers(title="model commands", metavar="COMMAND", parser_class=_Parser)
    p = _add(md_sub, "push", cmd_model_push, "publish a finished training run's folder as a model package")
    p.add_argument("output_dir", metavar="RUN_DIR")
    p.add_argument("--model-package", help="model package name (default: fashion-mnist/model)")
    p = _add(md_sub, "fetch", cmd_model_fetch, "fetch and verify a model package into a folder")
    p.add_argument("--dest", required=True, metavar="DIR")
    p.add_argument("--model-package", help="model package name (default: fashion-mnist/model)")
    p.add_argument("--top-hash", help="version (default: latest)")

    p = _add(top, "predict", cmd_predict, "classify 28x28 images (PNG files, or a CSV in the data layout)")
    p.add_argument("inputs", nargs="+", metavar="IMAGE.png|FILE.csv")
    _model_source(p)
    p = _add(top, "lineage", cmd_lineage, "where a model came from: data version, code, environment, config")
    p.add_argument("top_hash", nargs="?", metavar="TOPHASH", help="model version (default: latest)")
    p.add_argument("--model-package", help="model package name (default: fashion-mnist/model)")
    p = _add(top, "reproduce", cmd_reproduce, "retrain from a model's recorded data version and config")
    p.add_argument("top_hash", metavar="TOPHASH")
    p.add_argument("--model-package", help="model package name (default: fashion-mnist/model)")
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
        return int(handler(args) or 0)
    except FashionError as exc:
        print(f"fashion: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("fashion: interrupted", file=sys.stderr)
        return 130
