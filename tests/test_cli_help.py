"""``fashion ... --help`` says what each command and option does, as the code does it."""

from __future__ import annotations

import argparse

import pytest

from fashion_lib.cli.parser import build_parser


def _help(*path: str) -> str:
    """The help text of ``fashion PATH... --help``, on one line (argparse wraps it)."""
    parser: argparse.ArgumentParser = build_parser()
    for name in path:
        commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        parser = commands.choices[name]
    return " ".join(parser.format_help().split())


def test_packages_is_described_as_listing_verifying_and_collecting() -> None:
    assert "packages list, verify and garbage-collect the packages in a registry" in _help()


def test_predict_help_says_model_is_not_with_registry() -> None:
    assert "(not with --top-hash, --model-package or --registry)" in _help("predict")
    assert "(not with --top-hash or --model-package)" in _help("evaluate")  # evaluate reads its data there


@pytest.mark.parametrize("command", ["train", "run"])
def test_training_options_say_what_they_do_and_their_default(command: str) -> None:
    text = _help(command)
    assert "--epochs EPOCHS passes over the training images (default: the preset's; 24 for --preset default)" in text
    assert "--batch-size BATCH_SIZE images per training step (default: the preset's; 256 for --preset default)" in text
    assert "--learning-rate LEARNING_RATE peak learning rate, reached after warm-up, then cosine decay" in text
    assert "(default: the preset's; 0.003 for --preset default)" in text
    assert "--seed SEED seed of the validation split, the initial weights and the augmentations" in text
    assert "(default: the preset's; 42 for --preset default)" in text


def _commands(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()):
    """Every (sub)command's parser, with the words that call it."""
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _commands(sub, (*path, name))


def test_every_option_says_what_it_does() -> None:
    """Before: reproduce's --output-dir (and train's --epochs...) had no help text."""
    bare = [
        f"fashion {' '.join(path)} {action.option_strings[0]}"
        for path, parser in _commands(build_parser())
        for action in parser._actions
        if action.option_strings and not action.help and not isinstance(action, argparse._HelpAction)
    ]
    assert not bare, bare
