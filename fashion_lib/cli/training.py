"""``fashion run``, ``fashion train`` and ``fashion reproduce``: the main job."""

from __future__ import annotations

import argparse

from .common import (
    DATA_DEFAULT,
    MODEL_DEFAULT,
    TOP_HASH,
    add,
    folder_path,
    not_blank,
    number_in,
    registry_text,
)
from .names import DATA_PACKAGE, MODEL_PACKAGE


def _config(args: argparse.Namespace):
    from ..pipeline import config_from_parameters

    return config_from_parameters(
        args.preset,
        assignments=args.set or (),
        epochs=args.epochs,
        batch_size=args.batch_size,
        learning_rate=args.learning_rate,
        seed=args.seed,
        limit=args.limit,
    )


def _print_outcome(done) -> None:
    from ..pipeline import UpToDate

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


def _run(args: argparse.Namespace, *, force: bool, push: bool) -> None:
    from ..pipeline import run

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
    _print_outcome(done)


def cmd_run(args: argparse.Namespace) -> None:
    _run(args, force=args.force, push=True)


def cmd_train(args: argparse.Namespace) -> None:
    _run(args, force=True, push=args.push)


def cmd_reproduce(args: argparse.Namespace) -> int:
    from ..pipeline import reproduce

    outcome, run = reproduce(
        args.top_hash,
        registry=args.registry,
        data_registry=args.data_registry,
        model_package=args.model_package,
        output_dir=args.output_dir,
        push=args.push,
        tolerance=None if args.tolerance is None else args.tolerance / 100,
    )
    print(outcome.report())
    if run.model_top_hash:
        print(f"model top hash: {run.model_top_hash}")
    return 0 if outcome.within_tolerance else 1


def _training_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--preset",
        default="default",
        type=not_blank("a preset: default, quick, v1, v2 or accurate"),
        help="default (94.4 %%, bfloat16 where the CPU has it) | quick (about a minute) | v2 (the previous default: "
        "93.8 %%, a third of the time) | v1 (the first) | accurate (float32, 30 epochs) (default: default)",
    )
    from ..config import TrainConfig

    recipe = TrainConfig.from_preset("default")

    def preset_s(value: object) -> str:
        return f"(default: the preset's; {value} for --preset default)"

    parser.add_argument("--epochs", type=int, help=f"passes over the training images {preset_s(recipe.epochs)}")
    parser.add_argument("--batch-size", type=int, help=f"images per training step {preset_s(recipe.batch_size)}")
    parser.add_argument(
        "--learning-rate",
        type=float,
        help=f"peak learning rate, reached after warm-up, then cosine decay {preset_s(f'{recipe.learning_rate:g}')}",
    )
    parser.add_argument(
        "--seed",
        type=int,
        help=f"seed of the validation split, the initial weights and the augmentations {preset_s(recipe.seed)}",
    )
    parser.add_argument("--limit", type=int, help="train on a subset of this many images (0: all)")
    parser.add_argument("--set", action="append", metavar="KEY=VALUE", help="any other config field")
    parser.add_argument(
        "--output-dir",
        type=folder_path,
        help="where clf.keras, history and metrics go "
        "(default: run-TIME in $FASHION_OUTPUT_DIR, else in the home folder's outputs/)",
    )
    parser.add_argument("--data-package", type=DATA_PACKAGE, help=f"data package name {DATA_DEFAULT}")
    parser.add_argument("--data-top-hash", type=TOP_HASH, help="data version (default: latest)")
    parser.add_argument("--model-package", type=MODEL_PACKAGE, help=f"model package name {MODEL_DEFAULT}")


def add_run_commands(top: argparse._SubParsersAction) -> None:
    """``fashion run`` and ``fashion train``."""
    p = add(top, "run", cmd_run, "the main job: data package, training, evaluation, model package")
    _training_options(p)
    p.add_argument(
        "--force",
        action="store_true",
        help="train even if the latest model came from this data, config, environment and commit",
    )
    p = add(top, "train", cmd_train, "train and evaluate (add --push to publish the model package)")
    _training_options(p)
    p.add_argument("--push", action="store_true", help="publish the model package")


def add_reproduce(top: argparse._SubParsersAction) -> None:
    """``fashion reproduce TOPHASH``."""
    p = add(top, "reproduce", cmd_reproduce, "retrain from a model's recorded data version and config")
    p.add_argument("top_hash", type=TOP_HASH, metavar="TOPHASH")
    p.add_argument(
        "--data-registry",
        type=registry_text,
        metavar="DIR|s3://BUCKET",
        help="where the recorded data version is (default: --registry if it holds it, else the registry "
        "the lineage records, where this machine reaches it); --push still publishes to --registry",
    )
    p.add_argument("--model-package", type=MODEL_PACKAGE, help=f"model package name {MODEL_DEFAULT}")
    p.add_argument(
        "--output-dir",
        type=folder_path,
        help="where the retrained clf.keras, history and metrics go (default: as for train, a new run-TIME folder)",
    )
    p.add_argument("--push", action="store_true", help="publish the reproduced model too")
    p.add_argument(
        "--tolerance",
        type=number_in(0, 100, lambda text: f"expected percentage points from 0 to 100, e.g. 0.5; got {text!r}"),
        metavar="POINTS",
        help="accept a test accuracy this many percentage points from the recorded one (default: 0 "
        "where commit, environment and CPU are the recorded ones, as a seeded run repeats bit for bit "
        "there; the cross-machine tolerance where any differs; the report says which)",
    )
